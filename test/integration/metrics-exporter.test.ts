import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { createApp, type CeleryApp } from '../../src/index';
import { exited, spawnWorker } from '../support/worker/int-helpers';

/**
 * `celery-wire worker --metrics-port` against real Redis: the scrape shows the TS worker under
 * celery-exporter's metric names, labels and types (danihodovic/celery-exporter,
 * `src/exporter.py`, `Exporter.__init__`), counted from the tasks it ran.
 */
const ROOT = resolve(__dirname, '..', '..');
const REDIS = 'redis://127.0.0.1:6379/0';
const tag = `${String(process.pid)}-${String(Date.now() % 100000)}`;
const queue = `obs-metrics-${tag}`;
const node = `obs-metrics-${tag}@${hostname()}`;
const host = hostname();

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => {
        res(typeof a === 'object' && a ? a.port : 0);
      });
    });
  });
}

/** The scrape, once the endpoint answers (it starts right after the worker is ready). */
async function scrape(port: number): Promise<string> {
  let last: unknown;
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${String(port)}/metrics`);
      if (r.ok) return await r.text();
      last = r.status;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no metrics endpoint: ${String(last)}`);
}

let child: ChildProcess;
let app: CeleryApp;
let port: number;

beforeAll(async () => {
  port = await freePort();
  child = await spawnWorker(
    [
      '-A',
      join(ROOT, 'test', 'support', 'otel', 'metrics-app.ts'),
      '-Q',
      queue,
      '-n',
      node,
      '-c',
      '2',
      '-b',
      REDIS,
      '--backend',
      REDIS,
      '--without-control',
      '--metrics-port',
      String(port),
      '--metrics-host',
      '127.0.0.1',
    ],
    process.env,
  );
  app = createApp({ brokerUrl: REDIS, resultBackend: REDIS });
});
afterAll(async () => {
  await app.close();
  if (child.exitCode === null) {
    child.kill('SIGTERM');
    await exited(child);
  }
});

describe('celery-wire worker --metrics-port', () => {
  it("serves celery-exporter's task counters, runtime histogram and worker gauges", async () => {
    const ok = await Promise.all(
      [1, 2, 3].map((x) => app.sendTask<number>('obs.metrics.ok', { args: [x], queue })),
    );
    const bad = await Promise.all([1, 2].map(() => app.sendTask('obs.metrics.fail', { queue })));
    expect(await Promise.all(ok.map((r) => r.get({ timeout: 30 })))).toEqual([2, 4, 6]);
    for (const r of bad) await expect(r.get({ timeout: 30 })).rejects.toThrow('bad value');
    const text = await scrape(port);
    const okL = `name="obs.metrics.ok",hostname="${host}",queue_name="${queue}"`;
    const badL = `name="obs.metrics.fail",hostname="${host}",queue_name="${queue}"`;
    const lines = text.split('\n');
    const has = (l: string): void => {
      expect(lines).toContain(l);
    };
    has('# TYPE celery_task_received_total counter');
    has(`celery_task_received_total{${okL}} 3`);
    has(`celery_task_started_total{${okL}} 3`);
    has(`celery_task_succeeded_total{${okL}} 3`);
    has(`celery_task_received_total{${badL}} 2`);
    has(`celery_task_succeeded_total{${badL}} 0`);
    has(
      `celery_task_failed_total{name="obs.metrics.fail",hostname="${host}",exception="ValueError",queue_name="${queue}"} 2`,
    );
    // Counters not hit are instantiated at 0 for the same labels, as celery-exporter does.
    has(`celery_task_retried_total{${okL}} 0`);
    has(
      `celery_task_failed_total{name="obs.metrics.ok",hostname="${host}",exception="",queue_name="${queue}"} 0`,
    );
    has('# TYPE celery_task_runtime histogram');
    has(`celery_task_runtime_count{${okL}} 3`);
    has(`celery_task_runtime_bucket{le="+Inf",${okL}} 3`);
    expect(
      lines.filter((l) => l.startsWith(`celery_task_runtime_bucket{`) && l.includes(okL)),
    ).toHaveLength(15);
    has(`celery_worker_up{hostname="${host}"} 1`);
    has(`celery_worker_tasks_active{hostname="${host}"} 0`);
  });
});
