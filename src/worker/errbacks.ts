import { Signature } from '../canvas/signature';
import type { PyValue } from '../serialization/py-values';
import { bindArgs } from './bind-args';
import { registryOf, type TaskDefinition, type TaskRequestInfo } from './task';

/**
 * `Backend._errback_arity_greater(errback, 1)` for a TypeScript task: more than one parameter
 * left once the signature's own args/kwargs are bound (immutable: all parameters count). Bound
 * tasks never qualify (`__header__` is a `partial` there); without declared `params` the task
 * is new-style only if it says so.
 */
function takesRequest(def: TaskDefinition, sig: Signature): boolean {
  const o = def.options;
  if (o.bind === true) return false;
  if (o.newStyleErrback !== undefined) return o.newStyleErrback;
  const params = o.params;
  if (params === undefined) return false;
  if (sig.immutable) return params.length > 1;
  const left = params.filter((p, i) => i >= sig.args.length && !(p in sig.kwargs));
  return left.length > 1;
}

/** What a failing task's errbacks split into. */
export interface ErrbackSplit {
  /** Called inline with `(request, exc, traceback)` by this worker. */
  inline: { def: TaskDefinition; sig: Signature }[];
  /** Published as a group with `(task_id,)` (`old_signature`). */
  published: PyValue[];
}

/** The first loop of `Backend._call_task_errbacks`: local new-style errbacks vs the rest. */
export function splitErrbacks(
  errbacks: readonly PyValue[] | null,
  owner: TaskDefinition,
): ErrbackSplit {
  const out: ErrbackSplit = { inline: [], published: [] };
  const registry = registryOf(owner);
  for (const raw of errbacks ?? []) {
    const sig = Signature.fromDict(raw);
    // NotRegistered: sent forward for a worker that has it.
    const def = registry?.get(sig.task);
    if (def && takesRequest(def, sig)) out.inline.push({ def, sig });
    else out.published.push(raw);
  }
  return out;
}

/**
 * `errback(request, exc, traceback)` → `Signature.__call__`: the failure's arguments are
 * prepended to the signature's (an immutable signature keeps only its own), and the task body
 * runs in this process. An errback raising is logged, never fatal (`logger.exception`).
 */
export async function callInlineErrbacks(
  inline: ErrbackSplit['inline'],
  request: TaskRequestInfo,
  exc: unknown,
  traceback: string | null,
  log: (msg: string) => void,
): Promise<void> {
  for (const { def, sig } of inline) {
    const lead = [request, exc, traceback] as unknown as PyValue[];
    const args = sig.immutable ? sig.args : [...lead, ...sig.args];
    try {
      const bound = bindArgs(def, args, sig.kwargs as Record<string, PyValue>);
      await (def.handler as (...a: unknown[]) => unknown)(...bound);
    } catch (e) {
      log(`Errback '${sig.task}' raised an exception: ${String(e)}`);
    }
  }
}
