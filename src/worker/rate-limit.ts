import { InvalidTaskError } from '../errors/errors';

/** `celery/utils/time.py`, `RATE_MODIFIER_MAP`. */
const MODIFIERS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600 };

/**
 * `celery/utils/time.py`, `rate`: `"10/m"` → tokens per second (`10 / 60`); a bare number is per
 * second; `0`, empty or null means no limit (returns 0).
 */
export function parseRate(r: string | number | null | undefined): number {
  if (r === null || r === undefined || r === '') return 0;
  if (typeof r === 'number') return r;
  const [ops, unit = 's'] = r.split('/', 2);
  const n = Number(ops);
  const mod = MODIFIERS[unit.trim() === '' ? 's' : (unit.trim()[0] ?? 's')];
  if (ops === undefined || Number.isNaN(n) || mod === undefined) {
    throw new InvalidTaskError(`invalid rate limit: ${JSON.stringify(r)}`);
  }
  return n / mod;
}

/**
 * `kombu/utils/limits.py`, `TokenBucket(fill_rate, capacity=1)` as Celery's consumer uses it
 * (`Consumer.bucket_for_task`): one token per task, refilled continuously.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly fillRate: number,
    readonly capacity = 1,
    private readonly now: () => number = () => performance.now() / 1000,
  ) {
    this.tokens = capacity;
    this.last = this.now();
  }

  private refill(): void {
    const t = this.now();
    if (this.tokens < this.capacity) {
      this.tokens = Math.min(this.capacity, this.tokens + this.fillRate * (t - this.last));
    }
    this.last = t;
  }

  /** `can_consume(tokens)`: take a token if one is available. */
  canConsume(tokens = 1): boolean {
    this.refill();
    if (tokens <= this.tokens) {
      this.tokens -= tokens;
      return true;
    }
    return false;
  }

  /** `expected_time(tokens)`: seconds until that many tokens are available. */
  expectedTime(tokens = 1): number {
    this.refill();
    return Math.max(0, (tokens - this.tokens) / this.fillRate);
  }
}

/**
 * Per-task-name buckets with waiting lines (`Consumer._limit_task`, `_limit_move_to_pool`): a
 * request without a token waits, in order, and the timer retries after `expected_time(1)`.
 * Requests stay prefetched and unacked meanwhile.
 */
export class RateLimiter<T extends { readonly name: string }> {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly lines = new Map<string, T[]>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly release: (item: T) => void) {}

  /** Replace a task's limit (`rate_limit` control command); 0/null removes it. */
  set(name: string, rate: string | number | null): void {
    const r = parseRate(rate);
    if (r <= 0) this.buckets.delete(name);
    else this.buckets.set(name, new TokenBucket(r));
  }

  /** Release `item` now, or when its bucket has a token. `rate` is the task's own limit. */
  submit(item: T, rate: string | number | null): void {
    let bucket = this.buckets.get(item.name);
    if (!bucket) {
      const r = parseRate(rate);
      if (r <= 0) {
        this.release(item);
        return;
      }
      bucket = new TokenBucket(r);
      this.buckets.set(item.name, bucket);
    }
    const line = this.lines.get(item.name) ?? [];
    this.lines.set(item.name, line);
    line.push(item);
    this.drain(item.name, bucket);
  }

  private drain(name: string, bucket: TokenBucket): void {
    const line = this.lines.get(name) ?? [];
    while (line.length > 0 && bucket.canConsume(1)) {
      const next = line.shift();
      if (next !== undefined) this.release(next);
    }
    if (line.length > 0 && !this.timers.has(name)) {
      const t = setTimeout(
        () => {
          this.timers.delete(name);
          this.drain(name, bucket);
        },
        bucket.expectedTime(1) * 1000,
      );
      this.timers.set(name, t);
    }
  }

  /** Drop waiting items and timers (shutdown: they stay unacked for the broker to restore). */
  clear(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.lines.clear();
  }
}
