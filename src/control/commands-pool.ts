import { numArg } from '../protocol/control-args';
import type { PyValue } from '../serialization/py-values';
import type { PoolControl } from '../worker/pool-control';
import { nok, ok, PyControlError, type ControlHandler } from './pidbox';

/** What the pool commands need from the worker. */
export interface PoolTarget {
  /** The worker's resizable pool; null for a pool that cannot (Celery's solo pool). */
  poolControl(): PoolControl | null;
  /** `--autoscale` is on (`state.consumer.controller.autoscaler`). */
  autoscaling(): boolean;
  /** `worker_pool_restarts`. */
  poolRestartsEnabled(): boolean;
  /** `consumer._update_prefetch_count(delta)` after a grow/shrink. */
  updatePrefetch(delta: number): void;
}

/**
 * `pool_grow`, `pool_shrink`, `pool_restart`, `autoscale` (`celery/worker/control.py`). Without
 * a {@link PoolControl} the worker answers as a Python solo-pool worker does: the pool has no
 * `grow`/`shrink` (AttributeError) and no `restart` (NotImplementedError).
 */
export function poolHandlers(t: PoolTarget): [string, ControlHandler][] {
  // `autoscale(state, max=None, min=None)`: an absent bound (`celery control autoscale 4`) is
  // left unchanged by `Autoscaler.update`, not set to 0.
  const bound = (v: PyValue | undefined): number | null => {
    const n = numArg(v);
    return n === undefined ? null : Math.trunc(n);
  };
  const noAttr = (name: string): PyControlError =>
    new PyControlError('AttributeError', `'TaskPool' object has no attribute '${name}'`);
  const resize = (verb: 'grow' | 'shrink'): ControlHandler => {
    return async (a) => {
      if (t.autoscaling()) {
        return nok(`pool_${verb} is not supported with autoscale. Adjust autoscale range instead.`);
      }
      const pool = t.poolControl();
      if (!pool) throw noAttr(verb);
      const n = Math.trunc(numArg(a.n) ?? 1);
      await pool[verb](n);
      t.updatePrefetch(verb === 'grow' ? n : -n);
      return ok(`pool will ${verb}`);
    };
  };
  return [
    ['pool_grow', resize('grow')],
    ['pool_shrink', resize('shrink')],
    [
      'pool_restart',
      async () => {
        if (!t.poolRestartsEnabled())
          throw new PyControlError('ValueError', 'Pool restarts not enabled');
        const pool = t.poolControl();
        if (!pool) {
          throw new PyControlError(
            'NotImplementedError',
            "<class 'celery.concurrency.solo.TaskPool'> does not implement restart",
          );
        }
        await pool.restart();
        return ok('reload started');
      },
    ],
    [
      'autoscale',
      async (a) => {
        const pool = t.poolControl();
        const r = t.autoscaling() && pool ? pool.autoscale(bound(a.max), bound(a.min)) : null;
        if (r === null) throw new PyControlError('ValueError', 'Autoscale not enabled');
        const [max, min] = await r;
        return ok(`autoscale now max=${String(max)} min=${String(min)}`);
      },
    ],
  ];
}

/**
 * `memsample`, `memdump`, `objgraph` as a Python worker without psutil/objgraph answers them
 * (`celery/utils/debug.py`: `mem_rss()` is None without psutil; `objgraph` raises ImportError).
 */
export function debugHandlers(): [string, ControlHandler][] {
  return [
    ['memsample', () => null],
    ['memdump', () => '- rss: (psutil not installed).\n'],
    [
      'objgraph',
      () => {
        throw new PyControlError('ImportError', 'Requires the objgraph library');
      },
    ],
  ];
}
