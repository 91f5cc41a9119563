import { randomUUID } from 'node:crypto';
import { connect } from 'amqplib';
import type { Redis } from 'ioredis';
import { createApp } from '../src/app/app';
import { awaitResults, dropResults, type DrainResult } from './results';
import { cliBin, peerBin, repoRoot, start, tsxBin, type Proc } from './procs';

/** Which worker drains the queue. */
export type WorkerKind = 'celery-wire' | 'celery-node' | 'celery-solo' | 'celery-prefork';

/** Where a drain runs. */
export interface DrainTarget {
  brokerUrl: string;
  /** Redis URL of the result backend (always Redis: results are counted there). */
  backendUrl: string;
}

/**
 * Extra node flags for our worker (BENCH_NODE_ARGS, space-separated, e.g. `--cpu-prof
 * --cpu-prof-dir=.bench/prof`), for profiling a drain; none in a normal run.
 */
function nodeArgs(): string[] {
  return (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
}

/**
 * Our worker's options after `-Q` (BENCH_WORKER_ARGS replaces them, e.g. `-c 100 -l warning` to
 * see what events and per-task log lines cost); the table's `-E -c 100` otherwise.
 */
function workerArgs(): string[] {
  const given = (process.env.BENCH_WORKER_ARGS ?? '').split(' ').filter((a) => a !== '');
  return given.length > 0 ? given : ['-E', '-c', '100'];
}

/** The command each worker is started with, as its users start it. */
export function startWorker(kind: WorkerKind, queue: string, t: DrainTarget): Proc {
  const env = { CELERY_BROKER_URL: t.brokerUrl, CELERY_RESULT_BACKEND: t.backendUrl };
  switch (kind) {
    case 'celery-wire':
      // README: `npx celery-wire worker --app conformance/app/index.ts -Q ts -E` (log level info,
      // remote control on), at the issue's `-c 100`.
      return start(
        process.execPath,
        [
          ...nodeArgs(),
          cliBin,
          'worker',
          '--app',
          'conformance/app/index.ts',
          '-Q',
          queue,
          ...workerArgs(),
        ],
        env,
      );
    case 'celery-node':
      return start(tsxBin, ['bench/producers/celery-node-worker.ts', queue], env);
    case 'celery-solo':
    case 'celery-prefork':
      // `celery -A proj worker -E` at its default log level (WARNING), events on.
      return start(
        peerBin('celery'),
        [
          '-A',
          'peer.app',
          'worker',
          '-Q',
          queue,
          '-E',
          '-P',
          kind === 'celery-solo' ? 'solo' : 'prefork',
          ...(kind === 'celery-prefork' ? ['-c', '2'] : []),
          '-n',
          `bench-${kind}-${randomUUID().slice(0, 6)}@%h`,
        ],
        {
          ...env,
          PYTHONPATH: `${repoRoot}/python-peers`,
          CELERY_SEND_EVENTS: '1',
        },
      );
  }
}

/** Fill `queue` with `n` `conformance.add` tasks (protocol 2, as Celery 5.7 sends them). */
export async function fill(brokerUrl: string, queue: string, n: number): Promise<string[]> {
  const tag = randomUUID().slice(0, 8);
  const ids = Array.from({ length: n }, (_, i) => `bench-${tag}-${String(i)}`);
  const app = createApp({ env: {}, brokerUrl, resultBackend: 'disabled', taskDefaultQueue: queue });
  try {
    for (let i = 0; i < n; i += 5000) {
      await app.client.sendMany(
        ids.slice(i, i + 5000).map((id, k) => ({
          name: 'conformance.add',
          opts: { args: [i + k, 1], taskId: id },
        })),
      );
    }
  } finally {
    await app.close();
  }
  return ids;
}

/** Remove the bench queue (Redis list or RabbitMQ queue). */
export async function dropQueue(brokerUrl: string, queue: string, redis: Redis): Promise<void> {
  if (brokerUrl.startsWith('redis')) {
    await redis.del(queue, 'unacked', 'unacked_index');
    return;
  }
  const conn = await connect(brokerUrl);
  try {
    const ch = await conn.createChannel();
    await ch.deleteQueue(queue);
    await ch.close();
  } finally {
    await conn.close();
  }
}

/** Prefill a fresh queue with `n` tasks, start `kind` on it, time it to the last stored result. */
export async function drain(
  kind: WorkerKind,
  n: number,
  t: DrainTarget,
  redis: Redis,
): Promise<DrainResult> {
  const queue = `bench-perf-${kind}-${randomUUID().slice(0, 6)}`;
  const ids = await fill(t.brokerUrl, queue, n);
  const worker = startWorker(kind, queue, t);
  try {
    return await awaitResults(redis, ids, worker);
  } finally {
    await worker.stop();
    await dropResults(redis, ids);
    await dropQueue(t.brokerUrl, queue, redis);
  }
}
