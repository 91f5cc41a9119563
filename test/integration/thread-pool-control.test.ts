import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { createApp } from '../../src/app/app';
import { resolveConfig, type CeleryConfig } from '../../src/config/config';
import type { PyValue } from '../../src/serialization/py-values';
import { TaskRegistry } from '../../src/worker/task';
import type { Worker } from '../../src/worker/worker';
import type { PoolControl } from '../../src/worker/pool-control';
import { ROOT, python, uniq } from '../support/worker/int-helpers';
import { tasks } from '../support/pool/pool-app';

jest.setTimeout(180_000);

const REDIS = process.env.POOL_TEST_REDIS ?? 'redis://127.0.0.1:6379/3';
const APP = join(ROOT, 'test', 'support', 'pool', 'pool-app.ts');
const DRIVER = join(ROOT, 'test', 'support', 'pool', 'pool_driver.py');

function sums(queue: string): Promise<{ sums: number[] }> {
  return new Promise((res, rej) => {
    execFile(
      python('5.7'),
      [DRIVER, 'adds', REDIS, REDIS, queue, 'unused'],
      { cwd: ROOT, timeout: 120_000 },
      (err, stdout, stderr) => {
        if (err) rej(new Error(`${err.message}\n${stderr}`));
        else res(JSON.parse(stdout.trim().split('\n').pop() ?? '') as { sums: number[] });
      },
    );
  });
}

function startWorker(queue: string, config: Partial<CeleryConfig>, concurrency: number): Worker {
  const cfg = resolveConfig({ brokerUrl: REDIS, resultBackend: REDIS, ...config });
  // The threads load the app module themselves; the main thread knows the same definitions.
  return createApp({ ...cfg, env: {} }).worker({
    tasks: new TaskRegistry(tasks),
    queues: [queue],
    concurrency,
    hostname: `${uniq('poolctl')}@test`,
    pool: 'prefork',
    appModule: APP,
    logger: { log: () => undefined },
  });
}

function control(w: Worker): PoolControl {
  const pc = w.poolControl;
  if (pc === null) throw new Error('a prefork worker has a PoolControl');
  return pc;
}

const processes = (s: Record<string, PyValue>): number[] => s.processes as number[];

/**
 * The thread pool's {@link PoolControl} (what `pool_grow`/`pool_shrink`/`autoscale`/
 * `pool_restart` and `stats.pool` act on), driven directly: the remote-control commands are
 * wired to it by the control work, not here. Tasks come from a Python Celery 5.7 producer.
 */
describe('thread pool control (Redis, Celery 5.7 producer)', () => {
  it('grows, shrinks, restarts real threads and reports prefork stats', async () => {
    const queue = uniq('poolctl');
    const w = startWorker(queue, {}, 2);
    await w.start();
    try {
      const pc = control(w);
      const s0 = pc.stats();
      expect(s0).toMatchObject({
        'max-concurrency': 2,
        'max-tasks-per-child': 'N/A',
        'put-guarded-by-semaphore': false,
        timeouts: [0, 0],
        writes: { total: 0, strategy: 'fair', inqueues: { total: 2, active: 0 } },
      });
      expect(processes(s0)).toHaveLength(2);
      await pc.grow(2);
      expect(processes(pc.stats())).toHaveLength(4);
      await pc.shrink(3);
      const s1 = pc.stats();
      expect(processes(s1)).toHaveLength(1);
      await pc.restart();
      const s2 = pc.stats();
      expect(processes(s2)).toHaveLength(1);
      expect(processes(s2)[0]).not.toBe(processes(s1)[0]);
      expect(await sums(queue)).toEqual({ sums: [0, 2, 4, 6] });
      expect(pc.stats().writes).toMatchObject({ total: 4, raw: '4', all: '1.00' });
      expect(pc.autoscale(3, 1)).toBeNull();
    } finally {
      await w.shutdown();
    }
  });

  it('autoscale updates the range and scales the threads', async () => {
    const queue = uniq('poolauto');
    const w = startWorker(queue, { workerAutoscaler: { max: 3, min: 1 } }, 3);
    await w.start();
    try {
      const pc = control(w);
      expect(processes(pc.stats())).toHaveLength(1);
      expect(await pc.autoscale(4, 2)).toEqual([4, 2]);
      expect(processes(pc.stats())).toHaveLength(2);
      // Celery's `pool.limit`: the `--autoscale` min the worker started with (5.7 reports 1 for
      // `--autoscale 3,1`: `Pool.create` sizes the pool `w.min_concurrency`).
      expect(pc.stats()['max-concurrency']).toBe(1);
      expect(await sums(queue)).toEqual({ sums: [0, 2, 4, 6] });
    } finally {
      await w.shutdown();
    }
  });
});
