import type { ResultBackend } from '../backends/backend';
import { BackendError } from '../errors/errors';
import type { ExceptionDict } from '../protocol/exception';
import { groupResultTuple, resultTuple } from '../protocol/result-meta';
import type { SignatureDict } from '../protocol/signature';
import { FAILURE, PROPAGATE_STATES } from '../protocol/states';
import { isPyDict, type PyValue } from '../serialization/py-values';
import { applyAsync, type CanvasHost } from './apply';
import { usesChordUnlock } from './chord-unlock';
import { failGroupBody } from './group-chord-error';
import { Group } from './primitives';
import type { ResultRef } from './result-ref';
import { Signature, signatureList } from './signature';

/**
 * What the worker-side canvas steps need: publishing (a {@link CanvasHost}) and the worker's
 * result backend.
 */
export interface ProgressionHost extends CanvasHost {
  backend: ResultBackend;
}

/** A host that can run new-style errbacks inline; returns the errbacks left to publish. */
export interface InlineErrbackHost {
  callInlineErrbacks?(
    taskId: string,
    errbacks: readonly PyValue[],
    exc: PyValue,
  ): Promise<readonly PyValue[]>;
}

/** The parts of a task request that drive canvas progression (Celery's `Context`). */
export interface CanvasRequest {
  id: string;
  rootId: string | null;
  parentId: string | null;
  groupId: string | null;
  groupIndex: number | null;
  callbacks: readonly PyValue[] | null;
  errbacks: readonly PyValue[] | null;
  /** Remaining chain, reversed (`embed.chain`): the next step is the last element. */
  chain: readonly PyValue[] | null;
  /** Chord body when this task is a chord header member (`embed.chord`). */
  chord: PyValue;
  /** Parent priority passed on when `task_inherit_parent_priority` (else null). */
  priority?: number | null;
}

/** `AsyncResult.as_tuple()` / `GroupResult.as_tuple()` for the `children` of a result. */
export function asTuple(ref: ResultRef): PyValue {
  if (ref.kind === 'task') return resultTuple(ref.id, ref.parent ? asTuple(ref.parent) : null);
  return groupResultTuple(
    ref.id,
    ref.results.map((r) => r.id),
    ref.parent ? asTuple(ref.parent) : null,
  );
}

function callOpts(req: CanvasRequest): Record<string, PyValue> {
  const o: Record<string, PyValue> = { parent_id: req.id, root_id: req.rootId ?? req.id };
  if (req.priority !== undefined && req.priority !== null) o.priority = req.priority;
  return o;
}

/**
 * After a successful run, before storing SUCCESS (`celery/app/trace.py`,
 * `_dispatch_callbacks_and_chain`): one callback is applied with the return value prepended,
 * several are sent as one group (group callbacks each on their own); then the next chain step is
 * applied with `chain=rest`. Returns the `children` tuples for the SUCCESS document.
 */
export async function dispatchCallbacksAndChain(
  req: CanvasRequest,
  retval: PyValue,
  host: CanvasHost,
): Promise<PyValue[]> {
  const children: PyValue[] = [];
  const opts = callOpts(req);
  const callbacks = (req.callbacks ?? []).map((c) => Signature.fromDict(c));
  if (callbacks.length > 1) {
    const groups = callbacks.filter((s) => s instanceof Group);
    const sigs = callbacks.filter((s) => !(s instanceof Group));
    for (const g of groups) children.push(asTuple(await applyAsync(g, host, [retval], {}, opts)));
    if (sigs.length > 0) {
      children.push(asTuple(await applyAsync(new Group(sigs), host, [retval], {}, opts)));
    }
  } else if (callbacks[0]) {
    children.push(asTuple(await applyAsync(callbacks[0], host, [retval], {}, opts)));
  }
  const chain = req.chain ?? [];
  const next = chain[chain.length - 1];
  if (next !== undefined) {
    const rest = chain.slice(0, -1) as SignatureDict[];
    const ref = await applyAsync(
      Signature.fromDict(next),
      host,
      [retval],
      {},
      {
        ...opts,
        chain: rest,
      },
    );
    children.push(asTuple(ref));
  }
  return children;
}

/** `ChordError(message)` as Celery stores it (`celery.exceptions.ChordError`). */
export function chordErrorDict(message: string): ExceptionDict {
  return { exc_type: 'ChordError', exc_message: [message], exc_module: 'celery.exceptions' };
}

/**
 * Old-style errbacks (`Backend._call_task_errbacks`, the branch for tasks this process cannot
 * call inline): one group of them applied with `(task_id,)` prepended, `parent_id=task_id`.
 * Returns that group's result (Celery's `group.apply_async` adds it to the running task's
 * children), or null when none was published.
 */
export async function callErrbacks(
  taskId: string,
  rootId: string | null,
  errbacks: readonly PyValue[],
  host: CanvasHost & InlineErrbackHost,
  exc: PyValue = null,
): Promise<ResultRef | null> {
  // New-style errbacks this process has are called inline (`_call_task_errbacks`).
  const rest = host.callInlineErrbacks
    ? await host.callInlineErrbacks(taskId, errbacks, exc)
    : errbacks;
  const sigs = rest.map((e) => Signature.fromDict(e));
  if (sigs.length === 0) return null;
  return applyAsync(
    new Group(sigs),
    host,
    [taskId],
    {},
    {
      parent_id: taskId,
      root_id: rootId ?? taskId,
    },
  );
}

/** `Backend._fail_chain`: every remaining chain step (and chord bodies in it) stored as failed. */
export async function failChain(
  chain: readonly PyValue[] | null,
  exc: ExceptionDict,
  traceback: string | null,
  host: ProgressionHost,
  state: string = FAILURE,
  storeResult = true,
): Promise<void> {
  const elems: PyValue[] = [...(chain ?? [])];
  while (elems.length > 0) {
    const elem = elems.shift();
    if (!isPyDict(elem)) continue;
    const options = isPyDict(elem.options) ? elem.options : {};
    const id = typeof options.task_id === 'string' ? options.task_id : null;
    const group = typeof options.group_id === 'string' ? options.group_id : null;
    const inChord = 'chord' in options;
    const alreadyFailed =
      inChord && id !== null && PROPAGATE_STATES.has((await host.backend.getTaskMeta(id)).status);
    if (storeResult && PROPAGATE_STATES.has(state) && id !== null) {
      await host.backend.storeResult(id, exc, state, {
        traceback,
        request: { group, parentId: null },
      });
    }
    if (inChord && !alreadyFailed && id !== null) {
      const gi = options.group_index;
      await chordPartReturn(
        {
          id,
          rootId: null,
          parentId: null,
          groupId: group,
          groupIndex: typeof gi === 'number' ? gi : null,
          callbacks: null,
          errbacks: null,
          chain: null,
          chord: options.chord ?? null,
        },
        state,
        exc,
        host,
      );
    }
    if (elem.subtask_type === 'chord' && isPyDict(elem.kwargs)) {
      const body = elem.kwargs.body;
      if (body !== undefined && body !== null) elems.push(body);
    }
  }
}

/**
 * `Backend.chord_error_from_stack(callback, ChordError(message))` for a plain body: its errbacks
 * are called, its FAILURE stored, its chain failed.
 */
export async function chordErrorFromStack(
  body: PyValue,
  message: string,
  host: ProgressionHost,
  cause: PyValue = null,
): Promise<void> {
  const cb = Signature.fromDict(body);
  const exc = chordErrorDict(message);
  if (cb instanceof Group) {
    const original = isPyDict(cause) ? (cause as unknown as ExceptionDict) : null;
    await failGroupBody(cb, exc, original, host, { callErrbacks, failChain });
    return;
  }
  const id = cb.id ?? host.uuid();
  const errbacks = signatureList(cb.options.link_error).map((s) => s.toDict());
  const sent = await callErrbacks(id, null, errbacks, host, exc);
  // `fail_from_current_stack` stores with no request, so `children` are the running (header)
  // task's: the errback group just sent. Tasks a TS task body sends itself are not recorded.
  await host.backend.storeResult(id, exc, FAILURE, {
    traceback: null,
    currentChildren: sent ? [asTuple(sent)] : [],
  });
  const chain = cb.options.chain;
  await failChain(Array.isArray(chain) ? (chain as PyValue[]) : null, exc, null, host);
}

/**
 * `on_chord_part_return`, run on EVERY completion of a chord header task: the backend's native
 * join records it; the completer publishes the body with the ordered results prepended, or fails
 * it with `ChordError('Dependency <id> raised <repr>')`.
 */
export async function chordPartReturn(
  req: CanvasRequest,
  state: string,
  result: PyValue,
  host: ProgressionHost,
): Promise<void> {
  if (req.chord === null || !req.groupId) return;
  const join = host.backend.chordJoin;
  // `BaseBackend.on_chord_part_return` is a no-op: `celery.chord_unlock` polls instead.
  if (!join && usesChordUnlock(host.backend)) return;
  if (!join) {
    // rpc/disabled: Celery refuses chords up front (`ensure_chords_allowed`); nothing can join.
    throw new BackendError('this result backend has no chord support (no native join)');
  }
  await join.onChordPartReturn(
    { taskId: req.id, groupId: req.groupId, groupIndex: req.groupIndex, chord: req.chord },
    state,
    result,
    {
      // `callback.delay(resl)` inside the completing task: `send_task` takes parent/root ids
      // from `app.current_worker_task`.
      publishBody: async (body, results) => {
        await applyAsync(Signature.fromDict(body), host, [results], {}, callOpts(req));
      },
      failBody: (body, message, cause) => chordErrorFromStack(body, message, host, cause ?? null),
    },
  );
}

/** After SUCCESS was stored (`mark_as_done`): the chord part return, if a header member. */
export async function afterSuccess(
  req: CanvasRequest,
  retval: PyValue,
  host: ProgressionHost,
): Promise<void> {
  if (req.chord !== null) {
    await chordPartReturn(req, 'SUCCESS', retval, host);
  }
}

/**
 * After FAILURE was stored (`mark_as_failure`): chord part return, the chain remainder marked
 * FAILURE (Celery ≥5.1; only when errors are stored, `store_result=store_errors`), then the
 * errbacks.
 */
export async function afterFailure(
  req: CanvasRequest,
  exc: ExceptionDict,
  traceback: string | null,
  host: ProgressionHost,
  state: string = FAILURE,
  storeResult = true,
): Promise<void> {
  if (req.chord !== null) {
    await chordPartReturn(req, state, exc, host);
  }
  await failChain(req.chain, exc, traceback, host, state, storeResult);
  if (req.errbacks && req.errbacks.length > 0) {
    await callErrbacks(req.id, req.rootId, req.errbacks, host, exc);
  }
}
