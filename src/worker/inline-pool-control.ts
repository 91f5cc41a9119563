import type { PyValue } from '../serialization/py-values';
import type { PoolControl } from './pool-control';

/**
 * The {@link PoolControl} of the in-process pool (`-P solo`/`threads`): nothing to grow or
 * restart, as Celery's solo and threads pools (`celery/concurrency/solo.py`), whose `grow` and
 * `shrink` are not implemented.
 */
export function inlinePoolControl(concurrency: number): PoolControl {
  const unsupported = (what: string) => (): Promise<never> =>
    Promise.reject(new Error(`${what} is not supported by the in-process pool (use -P prefork)`));
  return {
    grow: unsupported('pool_grow'),
    shrink: unsupported('pool_shrink'),
    autoscale: () => null,
    restart: unsupported('pool_restart'),
    stats: (): Record<string, PyValue> => ({
      implementation: 'celery-wire:async',
      'max-concurrency': concurrency,
      processes: [process.pid],
      'max-tasks-per-child': 'N/A',
      'put-guarded-by-semaphore': false,
      timeouts: [0, 0],
      writes: {
        total: 0,
        avg: '0.00',
        all: '',
        raw: '',
        strategy: null,
        inqueues: { total: 0, active: 0 },
      },
    }),
  };
}
