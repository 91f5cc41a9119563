import { defineTask } from 'celery-wire';

/**
 * The CPU-bound row's app (`celery-wire worker -A bench/cpu-app.ts -P prefork|solo`): synchronous
 * JavaScript that never yields, as a CPU-bound Celery task is.
 */
export const tasks = [
  /** A fixed amount of CPU work. */
  defineTask('bench.work', (n: number) => {
    let x = 0;
    for (let i = 0; i < n; i++) x = (x * 31 + i) % 1000003;
    return x;
  }),
  /** Synchronous CPU work for `ms` milliseconds. */
  defineTask('bench.spin', (ms: number) => {
    const end = Date.now() + ms;
    let n = 0;
    while (Date.now() < end) n++;
    return n;
  }),
  /** `while (true) {}`: only a terminated thread stops it. */
  defineTask('bench.forever', () => {
    for (;;) {
      /* spin */
    }
  }),
];
