import { exceptionRepr } from '../backends/redis/chord-join';
import { applyAsync } from '../canvas/apply';
import { chordErrorFromStack, type ProgressionHost } from '../canvas/progression';
import { Signature } from '../canvas/signature';
import { pyRepr } from '../protocol/repr';
import { EXCEPTION_STATES, PROPAGATE_STATES, READY_STATES } from '../protocol/states';
import { isPyDict, type PyValue } from '../serialization/py-values';
import { defineTask, type TaskContext, type TaskDefinition } from './task';

/**
 * Celery's `celery.chord_unlock` (`celery/app/builtins.py`, `add_unlock_chord_task`), run by the
 * celery-wire worker for chords on backends without a native join (see
 * `src/canvas/chord-unlock.ts` for the sending side).
 */
function tupleId(t: PyValue): string | null {
  const head: PyValue = Array.isArray(t) ? ((t as PyValue[])[0] ?? null) : null;
  const id: PyValue = Array.isArray(head) ? ((head as PyValue[])[0] ?? null) : null;
  return typeof id === 'string' ? id : null;
}

/**
 * The worker's `celery.chord_unlock` (`max_retries=None`, `ignore_result=True`, bound). Group
 * tuples inside `result` (nested groups) are not expanded: Celery's header results here are the
 * flat `AsyncResult` tuples `_freeze_group_tasks` returns.
 */
export function chordUnlockTask(
  host: () => ProgressionHost | null,
  retryInterval = 1.0,
): TaskDefinition {
  return defineTask(
    'celery.chord_unlock',
    async (
      ctx: TaskContext,
      _groupId: PyValue,
      callback: PyValue,
      interval: PyValue,
      maxRetries: PyValue,
      result: PyValue,
    ): Promise<PyValue> => {
      const h = host();
      if (h === null) throw new Error('celery.chord_unlock needs a result backend');
      const countdown = typeof interval === 'number' ? interval : retryInterval;
      const retryMax = typeof maxRetries === 'number' ? maxRetries : null;
      const ids = (Array.isArray(result) ? (result as PyValue[]) : []).map(tupleId);
      let metas;
      try {
        metas = await Promise.all(ids.map((id) => h.backend.getTaskMeta(id ?? '')));
      } catch (exc) {
        return ctx.retry({ exc, countdown, maxRetries: retryMax });
      }
      if (!metas.every((m) => READY_STATES.has(m.status)))
        return ctx.retry({ countdown, maxRetries: retryMax });
      if (!isPyDict(callback)) throw new Error('celery.chord_unlock: callback is not a signature');
      // `deps.join(propagate=True)`: the first failed dependency in header order.
      const failed = metas.find((m) => PROPAGATE_STATES.has(m.status));
      if (failed) {
        const r = EXCEPTION_STATES.has(failed.status)
          ? exceptionRepr(failed.result)
          : pyRepr(failed.result);
        await chordErrorFromStack(callback, `Dependency ${failed.taskId ?? ''} raised ${r}`, h);
        return null;
      }
      await applyAsync(
        Signature.fromDict(callback),
        h,
        [metas.map((m) => m.result)],
        {},
        {
          parent_id: ctx.id,
          root_id: ctx.rootId ?? ctx.id,
        },
      );
      return null;
    },
    {
      params: ['group_id', 'callback', 'interval', 'max_retries', 'result'],
      defaults: { interval: null, max_retries: null, result: null },
      varKwargs: true,
      bind: true,
      maxRetries: null,
      defaultRetryDelay: retryInterval,
      ignoreResult: true,
    },
  );
}
