import {
  defineTask,
  PyDateTime,
  PyFloat,
  type CeleryConfig,
  type PyValue,
  type TaskContext,
} from 'celery-wire';
import { appendFileSync, readFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';

/**
 * The app of the thread-pool integration tests (`celery-wire worker -P prefork --app …`): CPU
 * tasks that never yield, tasks that kill their thread, and tasks that return every Python type.
 */
const spinFor = (ms: number): number => {
  const end = Date.now() + ms;
  let n = 0;
  while (Date.now() < end) n++;
  return n;
};

/** Kills its thread on the first run (a mark in `path`), returns the run count after that. */
const exitOnce = (path: string): number => {
  appendFileSync(path, 'x');
  const runs = readFileSync(path).length;
  if (runs === 1) process.exit(3);
  return runs;
};

export const tasks = [
  defineTask('pool.add', (a: number, b: number) => a + b),
  /** Synchronous CPU work for `ms` milliseconds; returns the thread it ran on. */
  defineTask('pool.spin', (ms: number) => {
    spinFor(ms);
    return threadId;
  }),
  /** A fixed amount of CPU work (for the CPU-bound rate in docs/pool.md). */
  defineTask('pool.work', (n: number) => {
    let x = 0;
    for (let i = 0; i < n; i++) x = (x * 31 + i) % 1000003;
    return x;
  }),
  /** `while (true) {}`: only a terminated thread stops it. */
  defineTask('pool.forever', () => {
    for (;;) {
      /* spin */
    }
  }),
  /** A synchronous loop that honours the soft limit through `ctx.signal.aborted`. */
  defineTask(
    'pool.soft',
    (ctx: TaskContext) => {
      while (!ctx.signal.aborted) spinFor(10);
      throw ctx.signal.reason as Error;
    },
    { bind: true },
  ),
  /** Kills its own thread. */
  defineTask('pool.exit', (code: number) => process.exit(code)),
  /** A lost child with `acks_late` + `reject_on_worker_lost`: requeued, then runs again. */
  defineTask('pool.exitOnce', exitOnce, { acksLate: true, rejectOnWorkerLost: true }),
  /** A lost child with `acks_late` only: acked (`acks_on_failure_or_timeout`) and FAILURE. */
  defineTask('pool.exitOnceLate', exitOnce, { acksLate: true }),
  /** `retry_on_worker_lost` (5.7): retried after `default_retry_delay`, then succeeds. */
  defineTask('pool.exitOnceRetry', exitOnce, {
    acksLate: true,
    retryOnWorkerLost: true,
    defaultRetryDelay: 1,
  }),
  /** `acks_on_failure=False` (5.7): rejected without requeue, FAILURE stored. */
  defineTask('pool.exitOnceNoAck', exitOnce, { acksLate: true, acksOnFailure: false }),
  defineTask('pool.throwAsync', () => {
    setTimeout(() => {
      throw new Error('uncaught in the thread');
    }, 0);
    return new Promise(() => undefined);
  }),
  /** Echo: every value crosses to the thread and back. */
  defineTask('pool.echo', (v: PyValue) => v),
  defineTask('pool.types', () => ({
    big: 2n ** 70n,
    float: new PyFloat(3),
    bytes: new Uint8Array([0, 1, 255]),
    when: new PyDateTime('2024-01-02T03:04:05.678901+00:00'),
  })),
  defineTask('pool.fail', (msg: string) => {
    throw new RangeError(msg);
  }),
  /** Retries twice, then returns the number of retries. */
  defineTask(
    'pool.retry',
    async (ctx: TaskContext) => {
      if (ctx.retries < 2) return ctx.retry({ countdown: 0.1, exc: new TypeError('again') });
      await ctx.updateState('PROGRESS', { done: ctx.retries });
      return ctx.retries;
    },
    { bind: true },
  ),
  /** Runs on the main thread even on a prefork worker. */
  defineTask('pool.main', () => threadId, { pool: 'solo' }),
];

export const config: Partial<CeleryConfig> = {};
