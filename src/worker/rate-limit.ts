import { InvalidTaskError } from '../errors/errors';
import { setLongTimeout, type LongTimer } from './long-timer';

/** `celery/utils/time.py`, `RATE_MODIFIER_MAP`. */
const MODIFIERS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600 };

/** What Python's `float(str)` accepts (decimal, exponent, inf/nan, surrounding whitespace). */
const PY_FLOAT =
  /^\s*[+-]?(?:(?:\d[\d_]*)?\.?\d[\d_]*(?:[eE][+-]?\d+)?|\d+\.|inf(?:inity)?|nan)\s*$/i;

/**
 * `celery/utils/time.py`, `rate`: `"10/m"` → tokens per second (`10 / 60`); a bare number is per
 * second; `0`, empty or null means no limit (returns 0). Exactly Celery's grammar: the modifier
 * is the whole text after `/` (`s`, `m`, `h` or empty), so `"10/min"` is refused as Celery's
 * `KeyError('min')` is; an unparsable count is Celery's `ValueError`.
 */
export function parseRate(r: string | number | null | undefined): number {
  if (r === null || r === undefined || r === '' || r === 0) return 0;
  if (typeof r === 'number') {
    // NaN would make a token bucket that never fills: every task of that name would hang.
    if (Number.isNaN(r)) throw new InvalidTaskError('invalid rate limit: nan');
    return r;
  }
  const slash = r.indexOf('/');
  const ops = slash < 0 ? r : r.slice(0, slash);
  const modifier = slash < 0 ? '' : r.slice(slash + 1);
  if (!PY_FLOAT.test(ops)) {
    throw new InvalidTaskError(
      `invalid rate limit: ${JSON.stringify(r)}: could not convert string to float: '${ops}'`,
    );
  }
  const mod = MODIFIERS[modifier === '' ? 's' : modifier];
  if (mod === undefined) {
    throw new InvalidTaskError(
      `invalid rate limit: ${JSON.stringify(r)}: unknown unit '${modifier}'`,
    );
  }
  const n = Number(
    ops
      .trim()
      .replace(/_/g, '')
      .replace(/^([+-]?)inf(inity)?$/i, '$1Infinity'),
  );
  if (Number.isNaN(n)) throw new InvalidTaskError(`invalid rate limit: ${JSON.stringify(r)}`);
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
  private readonly timers = new Map<string, LongTimer>();

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
      const t = setLongTimeout(
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
  /** Drop waiting items matching `pred` (their messages went back to the broker). */
  drop(pred: (item: T) => boolean): T[] {
    const out: T[] = [];
    for (const [name, line] of this.lines) {
      const keep = line.filter((x) => !pred(x));
      for (const x of line) if (pred(x)) out.push(x);
      this.lines.set(name, keep);
    }
    return out;
  }

  clear(): void {
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
    this.lines.clear();
  }
}
