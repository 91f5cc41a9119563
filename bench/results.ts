import type { Redis } from 'ioredis';
import { cpuSeconds, sleep, type Proc } from './procs';

/** What a drain measured: rate between the first and the last stored result, CPU of the worker. */
export interface DrainResult {
  perSecond: number;
  cpuUsPerTask: number;
  seconds: number;
}

const key = (id: string): string => `celery-task-meta-${id}`;

/**
 * Wait until every id has a result document in the backend (EXISTS, in id order, 500 keys a
 * call), timing from the first stored result to the last one so that process start-up is left
 * out, as for every worker in the table. The worker's CPU (with its children) is read from
 * /proc at the same two moments.
 */
export async function awaitResults(
  redis: Redis,
  ids: readonly string[],
  worker: Proc,
  stallMs = 60_000,
): Promise<DrainResult> {
  const first = key(ids[0] ?? '');
  let lastProgress = performance.now();
  const check = (): void => {
    if (worker.child.exitCode !== null) {
      throw new Error(`worker exited ${String(worker.child.exitCode)}: ${worker.output()}`);
    }
    if (performance.now() - lastProgress > stallMs) {
      throw new Error(`no result for ${String(stallMs)} ms; worker said: ${worker.output()}`);
    }
  };
  while ((await redis.exists(first)) === 0) {
    check();
    await sleep(2);
  }
  const t0 = performance.now();
  const cpu0 = cpuSeconds(worker.pid);
  let i = 1;
  while (i < ids.length) {
    const batch = ids.slice(i, i + 500).map(key);
    const n = await redis.exists(...batch);
    if (n === batch.length) {
      i += batch.length;
      lastProgress = performance.now();
      continue;
    }
    check();
    await sleep(5);
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(worker.pid) - cpu0;
  const done = ids.length - 1;
  return { perSecond: done / seconds, cpuUsPerTask: (cpu * 1e6) / done, seconds };
}

/** Delete the result documents of `ids` (the bench's Redis db must not fill up over a soak). */
export async function dropResults(redis: Redis, ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 1000) {
    await redis.del(...ids.slice(i, i + 1000).map(key));
  }
}
