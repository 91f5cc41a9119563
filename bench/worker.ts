import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { RedisBackend } from '../src/backends/redis/redis-backend';
import { RedisBroker } from '../src/brokers/redis/redis-broker';
import { tasks } from '../conformance/app/index';
import { Worker } from '../src/worker/worker';
import type { BenchRow } from './measure';
import { peerPython, repoRoot } from './python';

const run = promisify(execFile);

/** Options of {@link benchWorker}. */
export interface WorkerBenchOptions {
  /** Tasks drained by our worker (default 20 000). */
  tasks?: number;
  /** Tasks drained by each Python worker (default: the same; lower it to save time). */
  pythonTasks?: number;
  /** Redis URL of a database the bench may clear keys in (default db 12). */
  redisUrl?: string;
  /** Our worker's concurrency (default 100: the tasks are tiny async handlers). */
  concurrency?: number;
}

async function py<T>(args: readonly string[], env: NodeJS.ProcessEnv): Promise<T> {
  const { stdout } = await run(peerPython('5.7'), ['-m', 'peer.worker_bench', ...args], {
    cwd: join(repoRoot, 'python-peers'),
    env,
    maxBuffer: 16 << 20,
  });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as T;
}

async function clear(redis: Redis, queue: string): Promise<void> {
  await redis.del(queue, 'unacked', 'unacked_index');
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(
      cursor,
      'MATCH',
      'celery-task-meta-bench-*',
      'COUNT',
      5000,
    );
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

/** Fill `queue` with `n` tasks produced by real Celery. */
async function fill(redis: Redis, queue: string, n: number, env: NodeJS.ProcessEnv): Promise<void> {
  await clear(redis, queue);
  await py(['produce', String(n), queue], env);
  const len = await redis.llen(queue);
  if (len !== n) throw new Error(`expected ${String(n)} queued tasks, found ${String(len)}`);
}

/**
 * Drain queued `conformance.add` tasks produced by Python Celery, results stored in Redis, with
 * our worker and with Python Celery workers (solo, prefork -c 2) on the same queue, same run.
 */
export async function benchWorker(o: WorkerBenchOptions = {}): Promise<BenchRow[]> {
  const n = o.tasks ?? 20_000;
  const pn = o.pythonTasks ?? n;
  const url = o.redisUrl ?? 'redis://127.0.0.1:6379/12';
  const queue = 'bench-worker';
  const env = {
    ...process.env,
    PYTHONPATH: join(repoRoot, 'python-peers'),
    CELERY_BROKER_URL: url,
    CELERY_RESULT_BACKEND: url,
    CELERY_SEND_EVENTS: '0',
  };
  const redis = new Redis(url);
  try {
    await fill(redis, queue, n, env);
    const worker = new Worker({
      broker: new RedisBroker({ url }),
      backend: new RedisBackend({ url }),
      tasks,
      queues: [queue],
      concurrency: o.concurrency ?? 100,
      logger: { log: () => undefined },
    });
    const t0 = performance.now();
    await worker.start();
    while (worker.counters.succeeded < n) await new Promise((r) => setTimeout(r, 2));
    const ours = n / ((performance.now() - t0) / 1000);
    await worker.shutdown();

    const pyRate = async (pool: string, conc: number): Promise<number> => {
      await fill(redis, queue, pn, env);
      const r = await py<{ per_s: number }>(['drain', queue, pool, String(conc), String(pn)], env);
      return r.per_s;
    };
    const solo = pn > 0 ? await pyRate('solo', 1) : null;
    const prefork = pn > 0 ? await pyRate('prefork', 2) : null;
    await clear(redis, queue);
    return [
      {
        name: `worker: drain ${String(n)} add tasks, Redis broker+backend (vs Celery solo)`,
        ours,
        python: solo,
        unit: 'tasks/s',
        targetRatio: 20,
      },
      {
        name: 'worker: same (vs Celery prefork -c 2)',
        ours,
        python: prefork,
        unit: 'tasks/s',
        targetRatio: null,
      },
    ];
  } finally {
    redis.disconnect();
  }
}
