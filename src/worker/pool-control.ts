import type { PyValue } from '../serialization/py-values';

/**
 * What remote control can do to the worker's pool (`celery/worker/control.py`: `pool_grow`,
 * `pool_shrink`, `autoscale`, `pool_restart`) and what `inspect stats` reports as `pool`.
 * Implemented by the pool; control only sees this interface.
 */
export interface PoolControl {
  /** `pool_grow n`: add `n` processes (threads/slots). */
  grow(n: number): Promise<void>;
  /** `pool_shrink n`: remove `n`; resolves once they are gone. */
  shrink(n: number): Promise<void>;
  /** `autoscale max min`, when the worker runs with `--autoscale`; null when it does not. */
  /** A null bound is left as it is (`Autoscaler.update(max=None, min=None)`). */
  autoscale(max: number | null, min: number | null): Promise<readonly [number, number]> | null;
  /** `pool_restart`: replace every process (only where `worker_pool_restarts` is on). */
  restart(): Promise<void>;
  /** `stats()['pool']`, with Celery's keys (`max-concurrency`, `processes`, `writes`, …). */
  stats(): Record<string, PyValue>;
}
