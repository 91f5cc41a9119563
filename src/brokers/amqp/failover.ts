import { CeleryError } from '../../errors/errors';

/**
 * kombu's failover strategies (`kombu/connection.py`, `failover_strategies`): a strategy turns the
 * list of alternates into an endless iterator of the next node to try. `round-robin` is
 * `itertools.cycle`; `shuffle` is `kombu/utils/functional.py`, `shufflecycle` (shuffle the list,
 * yield its first item, forever). A function is accepted as kombu accepts a callable.
 */
export type FailoverStrategy<T> = (alternates: readonly T[]) => Iterator<T>;

/** Celery's `broker_failover_strategy` values (`None` → `round-robin`). */
export type FailoverStrategyName = 'round-robin' | 'shuffle';

export function* roundRobin<T>(alternates: readonly T[]): Iterator<T> {
  for (;;) yield* alternates;
}

export function* shuffleCycle<T>(
  alternates: readonly T[],
  random: () => number = Math.random,
): Iterator<T> {
  const it = [...alternates]; // don't modify the caller's list
  for (;;) {
    // random.shuffle: Fisher-Yates from the end.
    for (let i = it.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      const a = it[i] as T;
      it[i] = it[j] as T;
      it[j] = a;
    }
    yield it[0] as T;
  }
}

/** `Connection.__init__`: `failover_strategies.get(name) or name`; unknown names are refused. */
export function failoverStrategy<T>(
  s: FailoverStrategyName | FailoverStrategy<T> | null | undefined,
): FailoverStrategy<T> {
  if (typeof s === 'function') return s;
  // Settings come from JavaScript too: the name is checked at run time.
  const name: string = s ?? 'round-robin';
  if (name === 'round-robin') return roundRobin;
  if (name === 'shuffle') return (a) => shuffleCycle(a);
  throw new CeleryError(
    'E_CONFIG',
    `broker_failover_strategy must be 'round-robin', 'shuffle' or a function, not ${JSON.stringify(s)}`,
  );
}

/**
 * The node selection of a `kombu.Connection` with alternates: `current` starts at the first URL
 * and the strategy's first item is skipped (`next(self.cycle)  # skip first entry`);
 * `next()` is `maybe_switch_next`; `completesCycle(retries)` says when a failed attempt ends a
 * round over every node, which is when kombu sleeps (`_ensure_connection`, `on_error`).
 */
export class FailoverCycle<T> {
  private cycle: Iterator<T> | undefined;
  current: T;

  constructor(
    private readonly alternates: readonly T[],
    private readonly strategy: FailoverStrategy<T>,
  ) {
    const first = alternates[0];
    if (first === undefined) throw new CeleryError('E_CONFIG', 'empty broker URL');
    this.current = first;
    this.restart();
  }

  /**
   * Back to the first URL with a fresh cycle, as a new `kombu.Connection` of the same list
   * starts (`Connection.__init__`: `hostname = alt[0]`, `self.cycle = strategy(alt)`,
   * `next(self.cycle)`).
   */
  restart(): void {
    this.current = this.alternates[0] as T;
    this.cycle = undefined;
    if (this.alternates.length > 1) {
      this.cycle = this.strategy(this.alternates);
      this.cycle.next();
    }
  }

  get size(): number {
    return this.alternates.length;
  }

  /** `maybe_switch_next`: move to the strategy's next node (a single URL stays put). */
  next(): T {
    const n = this.cycle?.next();
    if (n !== undefined && n.done !== true) this.current = n.value;
    return this.current;
  }

  /** `Connection.completes_cycle`: `not (retries + 1) % len(alt)` (always true without alt). */
  completesCycle(retries: number): boolean {
    return this.alternates.length <= 1 || (retries + 1) % this.alternates.length === 0;
  }
}
