import type { ResultBackend } from '../backends/backend';
import type { ExceptionDict } from '../protocol/exception';
import { FAILURE } from '../protocol/states';
import type { PyValue } from '../serialization/py-values';
import type { CanvasHost } from './apply';
import { freeze } from './freeze';
import { Chord, Group } from './primitives';
import type { Signature } from './signature';
import { signatureList } from './signature';

/**
 * `celery/backends/base.py`, `_result_errbacks`: the id of `sig`'s result and the errbacks
 * linked to it — a chord's are its own plus its body's (its result is the body's), a group's
 * include its members'.
 */
function resultErrbacks(sig: Signature, host: CanvasHost): { id: string; errbacks: PyValue[] } {
  const errbacks: PyValue[] = [];
  let s = sig;
  while (s instanceof Chord && s.body !== null) {
    errbacks.push(...signatureList(s.options.link_error).map((e) => e.toDict()));
    s = s.body;
  }
  errbacks.push(...signatureList(s.options.link_error).map((e) => e.toDict()));
  if (s instanceof Group) {
    for (const t of s.tasks) errbacks.push(...resultErrbacks(t, host).errbacks);
  }
  return { id: freeze(sig.clone(), host).id, errbacks };
}

function sameSig(a: PyValue, b: PyValue): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** `ProgressionHost` (`progression.ts`), restated to keep the import one-way. */
type ProgressionHost = CanvasHost & { backend: ResultBackend };

/** What {@link failGroupBody} calls back into (`progression.ts`, kept there to avoid a cycle). */
export interface GroupErrorDeps {
  callErrbacks(
    id: string,
    rootId: string | null,
    errbacks: readonly PyValue[],
    host: CanvasHost,
    exc: PyValue,
  ): Promise<unknown>;
  failChain(
    chain: readonly PyValue[] | null,
    exc: ExceptionDict,
    tb: string | null,
    host: ProgressionHost,
  ): Promise<void>;
}

/**
 * `Backend._handle_group_chord_error` (Celery ≥5.5, #8786) then `_fail_chain`: every member of a
 * group body gets its own and the group's errbacks (each once) and FAILURE with the *header's*
 * exception (the ChordError's cause); the group result fails too; the chain after the group
 * fails with the ChordError. (Celery also broadcasts a revoke of the members; not sent here.)
 */
export async function failGroupBody(
  cb: Group,
  chordError: ExceptionDict,
  cause: ExceptionDict | null,
  host: ProgressionHost,
  deps: GroupErrorDeps,
): Promise<void> {
  const original = cause ?? chordError;
  const groupErrbacks = signatureList(cb.options.link_error).map((e) => e.toDict());
  const memberErrbacks = new Map<string, PyValue[]>();
  for (const t of cb.tasks) {
    const r = resultErrbacks(t, host);
    memberErrbacks.set(r.id, r.errbacks);
  }
  const frozen = freeze(cb.clone(), host);
  const results = frozen.kind === 'group' ? frozen.results : [];
  for (const r of results) {
    const errbacks: PyValue[] = [];
    for (const e of [...(memberErrbacks.get(r.id) ?? []), ...groupErrbacks]) {
      if (!errbacks.some((x) => sameSig(x, e))) errbacks.push(e);
    }
    try {
      await deps.callErrbacks(r.id, null, errbacks, host, original);
    } catch {
      // `continue on exception to be sure to iter to all the group tasks`
    }
    await host.backend.storeResult(r.id, original, FAILURE, { traceback: null });
  }
  // `backend.mark_as_failure(frozen_group_id, original_exc)`
  await host.backend.storeResult(frozen.id, original, FAILURE, { traceback: null });
  const chain = cb.options.chain;
  await deps.failChain(Array.isArray(chain) ? (chain as PyValue[]) : null, chordError, null, host);
}
