/**
 * kombu's queue cycles (`kombu/utils/scheduling.py`, selected by transport option
 * `queue_order_strategy` through `cycle_by_name`): the order of the queues in one BRPOP. Pure.
 *
 * - `round_robin` (`round_robin_cycle`): the queue that delivered moves to the end.
 * - `priority` (`priority_cycle`): the order the queues were given in, never rotated.
 * - `sorted` (`sorted_cycle`): the names sorted (Python `sorted`: code point order).
 */
export type QueueOrderStrategy = 'round_robin' | 'priority' | 'sorted';

/** Python's `str` ordering: by code point, not by UTF-16 unit. */
function byCodePoint(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i]?.codePointAt(0) ?? 0) - (y[i]?.codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

export class QueueCycle {
  private items: string[];

  constructor(
    readonly strategy: QueueOrderStrategy,
    queues: readonly string[],
  ) {
    this.items = [...new Set(queues)];
  }

  /** The queues, in the order they were added (`Consumer.queues`). */
  names(): readonly string[] {
    return [...this.items];
  }

  has(queue: string): boolean {
    return this.items.includes(queue);
  }

  /** `basic_consume` → `_update_queue_cycle`: appended (kombu keeps `active_queues` order). */
  add(queue: string): void {
    if (!this.items.includes(queue)) this.items.push(queue);
  }

  remove(queue: string): void {
    this.items = this.items.filter((q) => q !== queue);
  }

  /** `cycle.consume(n)` for all queues. */
  consume(): string[] {
    return this.strategy === 'sorted' ? [...this.items].sort(byCodePoint) : [...this.items];
  }

  /** `cycle.rotate(last_used)`: only `round_robin` moves anything. */
  rotate(lastUsed: string): void {
    if (this.strategy !== 'round_robin') return;
    const i = this.items.indexOf(lastUsed);
    if (i < 0) return;
    this.items.splice(i, 1);
    this.items.push(lastUsed);
  }
}
