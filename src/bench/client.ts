import { randomUUID } from 'node:crypto';
import { createApp } from '../app/app';
import { startPythonWorker } from '../client/testing/python-worker';
import type { BenchRow } from './measure';
import { runPythonJson } from './python';

/** Options of {@link benchClient}. */
export interface ClientBenchOptions {
  redisUrl?: string;
  amqpUrl?: string;
  /** Tasks per publish run (default 20,000). */
  publishCount?: number;
  /** Sequential round trips (default 2,000). */
  rttCount?: number;
}

const SCRIPT = 'python-peers/peer/client_bench.py';

async function publishRate(
  brokerUrl: string,
  n: number,
): Promise<{ ours: number; python: number }> {
  const queue = `cw-bench-${randomUUID().slice(0, 8)}`;
  const app = createApp({ env: {}, brokerUrl, resultBackend: 'disabled', taskDefaultQueue: queue });
  try {
    const calls = Array.from({ length: n }, (_, i) => ({
      name: 'conformance.add',
      opts: { args: [i, i], ignoreResult: true },
    }));
    // Connect, declare, and warm the JIT on a throwaway batch (left in the queue, purged below).
    await app.client.sendMany(calls.slice(0, 2000));
    const t0 = performance.now();
    for (let i = 0; i < n; i += 5000) await app.client.sendMany(calls.slice(i, i + 5000));
    const ours = n / ((performance.now() - t0) / 1000);
    const py = await runPythonJson<{ rate: number }>(SCRIPT, [
      'publish',
      brokerUrl,
      queue,
      String(n),
    ]);
    return { ours, python: py.rate };
  } finally {
    await app.close();
    await runPythonJson(SCRIPT, ['purge', brokerUrl, queue]);
  }
}

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? NaN;
}

async function roundTrip(
  redisUrl: string,
  n: number,
): Promise<{ p50: number; p99: number; pyP50: number; pyP99: number }> {
  const queue = `cw-bench-rtt-${randomUUID().slice(0, 8)}`;
  const worker = await startPythonWorker({
    line: '5.7',
    brokerUrl: redisUrl,
    resultBackend: redisUrl,
    queues: queue,
  });
  const app = createApp({
    env: {},
    brokerUrl: redisUrl,
    resultBackend: redisUrl,
    taskDefaultQueue: queue,
  });
  try {
    const add = app.task<[number, number], number>('conformance.add');
    await (await add.delay(0, 0)).get({ timeout: 30 });
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await (await add.delay(i, 1)).get({ timeout: 30 });
      samples.push(performance.now() - t0);
    }
    samples.sort((a, b) => a - b);
    const py = await runPythonJson<{ p50_ms: number; p99_ms: number }>(SCRIPT, [
      'rtt',
      redisUrl,
      redisUrl,
      queue,
      String(n),
    ]);
    return {
      p50: percentile(samples, 0.5),
      p99: percentile(samples, 0.99),
      pyP50: py.p50_ms,
      pyP99: py.p99_ms,
    };
  } finally {
    await app.close();
    await worker.stop();
  }
}

/**
 * Client benchmark: publish rate to Redis (pipelined `publishMany`) and RabbitMQ (confirms) for
 * 20k tasks, and round-trip p50/p99 of 2,000 sequential `conformance.add` calls through a real
 * Python worker, each beside Python Celery's `send_task` in the same run.
 */
export async function benchClient(o: ClientBenchOptions = {}): Promise<BenchRow[]> {
  const redisUrl = o.redisUrl ?? 'redis://127.0.0.1:6379/0';
  const amqpUrl = o.amqpUrl ?? 'amqp://guest:guest@127.0.0.1:5672//';
  const n = o.publishCount ?? 20_000;
  const redis = await publishRate(redisUrl, n);
  const amqp = await publishRate(amqpUrl, n);
  const rtt = await roundTrip(redisUrl, o.rttCount ?? 2000);
  return [
    {
      name: 'publish → Redis',
      ours: redis.ours,
      python: redis.python,
      unit: 'tasks/s',
      targetRatio: null,
    },
    {
      name: 'publish → RabbitMQ (confirms)',
      ours: amqp.ours,
      python: amqp.python,
      unit: 'tasks/s',
      targetRatio: null,
    },
    // Lower is better for latency: the ratio column reads python/ours when shown as ops.
    {
      name: 'round trip p50 (Redis)',
      ours: rtt.p50,
      python: rtt.pyP50,
      unit: 'ms',
      targetRatio: null,
    },
    {
      name: 'round trip p99 (Redis)',
      ours: rtt.p99,
      python: rtt.pyP99,
      unit: 'ms',
      targetRatio: null,
    },
  ];
}
