/**
 * `celery/worker/state.py`: the revoked set (`LimitedSet(maxlen=50000, expires=10800)`) and the
 * counters the worker exposes (`total_count` per task name, plus bad-input counters).
 */
export class RevokedSet {
  private readonly ids = new Map<string, number>();

  constructor(
    private readonly maxlen = 50_000,
    private readonly expiresMs = 10_800_000,
  ) {}

  add(id: string, nowMs: number): void {
    this.ids.delete(id);
    this.ids.set(id, nowMs);
    // LimitedSet purges expired entries only once full, then the oldest.
    if (this.ids.size > this.maxlen) {
      for (const [k, t] of this.ids) {
        if (this.ids.size <= this.maxlen && nowMs - t < this.expiresMs) break;
        this.ids.delete(k);
      }
    }
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  list(): string[] {
    return [...this.ids.keys()];
  }
}

/** Counters of what the worker saw; every bad input lands in exactly one of these. */
export interface WorkerCounters {
  received: number;
  succeeded: number;
  failed: number;
  retried: number;
  revoked: number;
  rejected: number;
  /** Unknown task names (NotRegistered stored, rejected). */
  unknown: number;
  /** Schema violations, bad eta/expires, disallowed content (rejected). */
  invalid: number;
  /** Undecodable bodies (acked, as `on_decode_error`). */
  decodeErrors: number;
  /** Messages with neither a task header nor a v1 task body (rejected). */
  unknownFormat: number;
  /** `total_count`: processed tasks by name. */
  total: Record<string, number>;
}

export function newCounters(): WorkerCounters {
  return {
    received: 0,
    succeeded: 0,
    failed: 0,
    retried: 0,
    revoked: 0,
    rejected: 0,
    unknown: 0,
    invalid: 0,
    decodeErrors: 0,
    unknownFormat: 0,
    total: {},
  };
}
