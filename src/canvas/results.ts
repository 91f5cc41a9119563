import { AsyncResult, type GetOptions, type ResultHost } from '../client/async-result';
import { BackendError } from '../errors/errors';
import { groupResultTuple, resultTuple } from '../protocol/result-meta';
import { isPyDict, type PyValue } from '../serialization/py-values';
import type { ResultRef } from './result-ref';

/** A task result inside a canvas: Celery's `AsyncResult` with its `parent` (previous step). */
export class CanvasTaskResult<R = PyValue> extends AsyncResult<R> {
  constructor(
    id: string,
    host: ResultHost,
    readonly parent: CanvasResult | null = null,
  ) {
    super(id, host);
  }

  /**
   * `AsyncResult.as_tuple()`: `[[id, parent tuple], null]` — what Celery's backend stores when a
   * task returns a result (`Backend.prepare_value`) and what `result_from_tuple` reads.
   */
  asTuple(): PyValue {
    return resultTuple(this.id, this.parent ? this.parent.asTuple() : null);
  }
}

/** Either kind of canvas result. */
export type CanvasResult = CanvasTaskResult | GroupResult;

/**
 * Celery's `GroupResult` (`celery/result.py`): the member results in group order, saved under
 * `celery-taskset-meta-<gid>` by {@link save}.
 */
export class GroupResult {
  constructor(
    readonly id: string,
    readonly results: readonly CanvasResult[],
    private readonly host: ResultHost,
    readonly parent: CanvasResult | null = null,
  ) {}

  /** `GroupResult.as_tuple()`: `[[gid, parent tuple], [member tuples…]]`. */
  asTuple(): PyValue {
    return [
      [this.id, this.parent ? this.parent.asTuple() : null],
      this.results.map((r) => r.asTuple()),
    ];
  }

  /** `GroupResult.save()`: the group tuple `[[gid, null], [[[id, null], null], …]]`. */
  async save(): Promise<void> {
    const b = await this.host.backend();
    await b.saveGroup(
      this.id,
      groupResultTuple(
        this.id,
        this.results.map((r) => r.id),
      ),
    );
  }

  /** `GroupResult.restore(id)`: `null` when nothing was saved. */
  static async restore(id: string, host: ResultHost): Promise<GroupResult | null> {
    const tuple = await (await host.backend()).restoreGroup(id);
    if (tuple === null) return null;
    return fromTuple(tuple, host) as GroupResult;
  }

  /** `GroupResult.delete()`. */
  async delete(): Promise<void> {
    await (await this.host.backend()).deleteGroup(this.id);
  }

  private async each<T>(f: (r: CanvasResult) => Promise<T>): Promise<T[]> {
    const out: T[] = [];
    for (const r of this.results) out.push(await f(r));
    return out;
  }

  /** Every member finished (`ready()`). */
  async ready(): Promise<boolean> {
    return (await this.each((r) => r.ready())).every(Boolean);
  }

  /** Every member succeeded. */
  async successful(): Promise<boolean> {
    return (await this.each((r) => r.successful())).every(Boolean);
  }

  /** Some member failed. */
  async failed(): Promise<boolean> {
    return (await this.each((r) => r.failed())).some(Boolean);
  }

  /** Some member is not ready yet. */
  async waiting(): Promise<boolean> {
    return !(await this.ready());
  }

  /** How many members succeeded (`completed_count`). */
  async completedCount(): Promise<number> {
    return (await this.each((r) => r.successful())).filter(Boolean).length;
  }

  /**
   * `GroupResult.get()` / `join()`: the members' values in group order; the first failure
   * rejects (unless `propagate: false`). `timeout` applies to each wait.
   */
  async get(opts: GetOptions = {}): Promise<PyValue[]> {
    return this.each(async (r) => await r.get(opts));
  }

  /** Same as {@link get}. */
  join(opts: GetOptions = {}): Promise<PyValue[]> {
    return this.get(opts);
  }

  toString(): string {
    return this.id;
  }
}

/** Bind a frozen/applied result tree to a backend (via the app's {@link ResultHost}). */
export function bindResult(ref: ResultRef, host: ResultHost): CanvasResult {
  const parent = ref.parent ? bindResult(ref.parent, host) : null;
  if (ref.kind === 'task') return new CanvasTaskResult(ref.id, host, parent);
  return new GroupResult(
    ref.id,
    ref.results.map((r) => bindResult(r, host)),
    host,
    parent,
  );
}

/** `result_from_tuple`: `[[id, parent], null]` or `[[gid, parent], [children…]]`. */
export function fromTuple(t: PyValue, host: ResultHost): CanvasResult {
  if (!Array.isArray(t) || t.length !== 2) throw new BackendError('malformed result tuple');
  const [head, nodes] = t as readonly PyValue[];
  if (!Array.isArray(head)) throw new BackendError('malformed result tuple');
  const [id, parent] = head as readonly PyValue[];
  if (typeof id !== 'string') throw new BackendError('malformed result tuple id');
  const p =
    parent === null || parent === undefined || isPyDict(parent) ? null : fromTuple(parent, host);
  if (Array.isArray(nodes)) {
    return new GroupResult(
      id,
      (nodes as readonly PyValue[]).map((n) => fromTuple(n, host)),
      host,
      p,
    );
  }
  return new CanvasTaskResult(id, host, p);
}
