import type { PyValue } from '../../serialization/py-values';

/** `f'{x:.2f}'`. */
const per = (v: number, total: number): string => (v ? v / total : 0).toFixed(2);

/**
 * `stats()['pool']['writes']` as `celery/concurrency/asynpool.py`, `AsynPool.human_write_stats`:
 * jobs written per child, as fractions of the total. `strategy` is `fair`, Celery's default
 * scheduling (`-O fair`): a job goes only to an idle thread.
 */
export function writeStats(
  perChild: readonly number[],
  activeWrites: number,
): Record<string, PyValue> {
  // `write_stats` is a Counter: only children written to have an entry.
  const written = perChild.filter((v) => v > 0);
  const total = written.reduce((a, b) => a + b, 0);
  return {
    total,
    avg: per(total ? total / written.length : 0, total),
    all: written.map((v) => per(v, total)).join(', '),
    raw: written.map(String).join(', '),
    strategy: 'fair',
    inqueues: { total: perChild.length, active: activeWrites },
  };
}
