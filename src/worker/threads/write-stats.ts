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
  const total = perChild.reduce((a, b) => a + b, 0);
  return {
    total,
    avg: per(total ? total / perChild.length : 0, total),
    all: perChild.map((v) => per(v, total)).join(', '),
    raw: perChild.map(String).join(', '),
    strategy: 'fair',
    inqueues: { total: perChild.length, active: activeWrites },
  };
}
