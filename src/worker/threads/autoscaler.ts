import type { PyValue } from '../../serialization/py-values';

/** What the autoscaler acts on. */
export interface Scalable {
  readonly size: number;
  grow(n: number): Promise<void>;
  shrink(n: number): Promise<void>;
}

/** What the autoscaler reads from, and tells, the worker. */
export interface ScalerHooks {
  /** `len(state.reserved_requests)`: received and not yet finished. */
  qty(): number;
  /** `consumer._update_prefetch_count(diff)` when `max` changes. */
  updatePrefetch(diff: number): void;
  log(level: 'info' | 'debug' | 'error', msg: string): void;
}

/**
 * `celery/worker/autoscale.py`, `Autoscaler`: once a second, grow towards the number of reserved
 * requests (up to `max`), and shrink towards it (down to `min`) once nothing was received or
 * scaled up for `keepalive` seconds (`AUTOSCALE_KEEPALIVE`, default 30).
 */
export class Autoscaler {
  private timer: NodeJS.Timeout | undefined;
  private lastScaleUp: number | null = null;
  private lastReceived: number | null = null;
  private busy = false;
  hooks: ScalerHooks | null = null;

  constructor(
    private readonly pool: Scalable,
    public max: number,
    public min: number,
    private readonly keepalive = Number(process.env.AUTOSCALE_KEEPALIVE ?? 30),
  ) {}

  start(hooks: ScalerHooks): void {
    this.hooks = hooks;
    this.timer = setInterval(() => {
      void this.maybeScale();
    }, 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** `on_task_received`. */
  noteReceived(): void {
    this.lastReceived = performance.now() / 1000;
  }

  /** `_maybe_scale`. */
  async maybeScale(): Promise<void> {
    const h = this.hooks;
    if (!h || this.busy) return;
    this.busy = true;
    try {
      const procs = this.pool.size;
      const qty = h.qty();
      const up = Math.min(qty, this.max);
      if (up > procs) {
        this.lastScaleUp = performance.now() / 1000;
        await this.grow(up - procs);
        return;
      }
      const down = Math.max(qty, this.min);
      if (down < procs) {
        let last = this.lastScaleUp;
        if (this.lastReceived !== null && (last === null || this.lastReceived > last)) {
          last = this.lastReceived;
        }
        if (last !== null && performance.now() / 1000 - last > this.keepalive) {
          await this.shrink(procs - down);
        }
      }
    } finally {
      this.busy = false;
    }
  }

  /** `update(max=None, min=None)` (the `autoscale` control command): a null bound stays. */
  async update(max: number | null, min: number | null): Promise<readonly [number, number]> {
    if (max !== null) {
      const procs = this.pool.size;
      if (max < procs) await this.shrink(procs - max);
      const diff = max - this.max;
      if (diff) this.hooks?.updatePrefetch(diff);
      this.max = max;
    }
    if (min !== null) {
      if (min > this.pool.size) await this.grow(min - this.pool.size);
      this.min = min;
    }
    return [this.max, this.min];
  }

  private async grow(n: number): Promise<void> {
    this.hooks?.log('info', `Scaling up ${String(n)} processes.`);
    await this.pool.grow(n);
  }

  private async shrink(n: number): Promise<void> {
    this.hooks?.log('info', `Scaling down ${String(n)} processes.`);
    try {
      await this.pool.shrink(n);
    } catch (e) {
      this.hooks?.log('debug', `Autoscaler won't scale down: all processes busy. (${String(e)})`);
    }
  }

  /** `stats()['autoscaler']`. */
  info(): Record<string, PyValue> {
    return {
      max: this.max,
      min: this.min,
      current: this.pool.size,
      qty: this.hooks?.qty() ?? 0,
    };
  }
}
