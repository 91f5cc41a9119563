import { Redis } from 'ioredis';
import { defineTask } from '../../../src/worker/task';

/**
 * The ledger of the estate tests: a database of the shared Redis, outside any topology under
 * test, where every run of `gaps.record` is written (TS side here, Python side in py_estate.py).
 */
const LEDGER = process.env.SECURITY_TEST_REDIS ?? 'redis://127.0.0.1:6379/12';
// The Python worker's `gaps.record` (py_estate.py) writes to the same ledger.
process.env.CW_LEDGER = LEDGER;

export const ledger = new Redis(LEDGER);
afterAll(() => {
  ledger.disconnect();
});

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `gaps.record(run, id, ms)`: counts the start, logs the time, sleeps `ms`, counts the end. */
export const record = defineTask(
  'gaps.record',
  async (run: string, id: string, ms: number) => {
    await ledger.hincrby(`gaps:${run}:started`, id, 1);
    await ledger.rpush(`gaps:${run}:times`, `${id} ${String(Date.now())}`);
    await sleep(ms);
    await ledger.hincrby(`gaps:${run}:done`, id, 1);
    return id;
  },
  { params: ['run', 'id', 'ms'], ignoreResult: true },
);
