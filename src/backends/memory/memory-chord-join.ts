import { exceptionFromDict } from '../../protocol/exception';
import { pyRepr } from '../../protocol/repr';
import { EXCEPTION_STATES, PROPAGATE_STATES } from '../../protocol/states';
import type { PyValue } from '../../serialization/py-values';
import type { ChordJoin, ChordJoinHooks, ChordPartRequest } from '../backend';

/** `repr(exc)` of a stored exception document: `ValueError('boom')`. */
function exceptionRepr(doc: PyValue): string {
  const e = exceptionFromDict(doc);
  const name = e.excType.split('.').pop() ?? e.excType;
  return `${name}(${e.args.map((a) => pyRepr(a)).join(', ')})`;
}

interface Part {
  readonly index: number;
  readonly taskId: string;
  readonly state: string;
  readonly result: PyValue;
}

interface Join {
  size: number | null;
  readonly parts: Map<string, Part>;
  fired: boolean;
}

/**
 * The Redis backend's chord join semantics (`celery/backends/redis.py`,
 * `RedisBackend.on_chord_part_return`, 5.7) kept in process: every header completion is recorded
 * once per task id (the `.d` dedupe set), ordered by `group_index`; when the count reaches the
 * size set by `set_chord_size`, exactly one caller fires the body with the ordered results, or
 * fails it with `Dependency <id> raised <repr>` when a header task failed.
 */
export class MemoryChordJoin implements ChordJoin {
  private readonly joins = new Map<string, Join>();

  private join(gid: string): Join {
    let j = this.joins.get(gid);
    if (!j) this.joins.set(gid, (j = { size: null, parts: new Map(), fired: false }));
    return j;
  }

  setChordSize(groupId: string, size: number): Promise<void> {
    const j = this.join(groupId);
    j.size = size;
    j.fired = false;
    return Promise.resolve();
  }

  /** Header results recorded so far for a group (for tests and inspection). */
  partsOf(groupId: string): number {
    return this.joins.get(groupId)?.parts.size ?? 0;
  }

  async onChordPartReturn(
    req: ChordPartRequest,
    state: string,
    result: PyValue,
    hooks: ChordJoinHooks,
  ): Promise<void> {
    const { taskId: tid, groupId: gid } = req;
    if (!gid || !tid) return;
    const j = this.join(gid);
    if (!j.parts.has(tid)) {
      j.parts.set(tid, {
        index: req.groupIndex ?? Number.POSITIVE_INFINITY,
        taskId: tid,
        state,
        result,
      });
    }
    if (j.size === null || j.fired || j.parts.size !== j.size) return;
    j.fired = true;
    const ordered = [...j.parts.values()].sort((a, b) => a.index - b.index);
    this.joins.delete(gid);
    const failed = ordered.find((p) => PROPAGATE_STATES.has(p.state));
    if (failed) {
      const r = EXCEPTION_STATES.has(failed.state)
        ? exceptionRepr(failed.result)
        : pyRepr(failed.result);
      await hooks.failBody(req.chord, `Dependency ${failed.taskId} raised ${r}`);
      return;
    }
    try {
      await hooks.publishBody(
        req.chord,
        ordered.map((p) => p.result),
      );
    } catch (e) {
      await hooks.failBody(
        req.chord,
        `Callback error: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }
}
