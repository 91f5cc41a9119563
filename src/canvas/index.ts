import type { ResultHost } from '../client/async-result';
import type { PyValue } from '../serialization/py-values';
import { applyAsync } from './apply';
import { canvasHost, type CanvasApp, type CanvasHostOptions } from './host';
import { bindResult, type CanvasResult } from './results';
import type { OptValue, Signature } from './signature';

export { applyAsync, type CanvasHost } from './apply';
export { freeze, prepareSteps } from './freeze';
export { descend, stripChordHeaderLinks } from './walk';
export { canvasHost, encodeCanvasTask, splitOptions, type CanvasApp } from './host';
export { Chain, Chord, Group, chain, chord, chunks, group, xmap, xstarmap } from './primitives';
export {
  afterFailure,
  afterSuccess,
  asTuple,
  callErrbacks,
  chordErrorFromStack,
  chordPartReturn,
  dispatchCallbacksAndChain,
  failChain,
  type CanvasRequest,
  type ProgressionHost,
} from './progression';
export type { GroupRef, ResultRef, TaskRef } from './result-ref';
export { bindResult, CanvasTaskResult, fromTuple, GroupResult, type CanvasResult } from './results';
export {
  canvasRequestOf,
  workerCanvasHost,
  type ReceivedCanvas,
  type WorkerCanvasOptions,
} from './worker-host';
export { Signature, s, si, signature, type CanvasEnv, type OptValue } from './signature';

/** An app that runs canvases in process under `taskAlwaysEager` (`null`: not eager). */
export interface EagerCanvasApp {
  applyEagerly(
    sig: Signature,
    args: readonly PyValue[],
    kwargs: Readonly<Record<string, PyValue>>,
    options: Readonly<Record<string, OptValue>>,
  ): Promise<CanvasResult> | null;
}

/** Options of {@link applyCanvas}. */
export interface ApplyCanvasOptions extends CanvasHostOptions {
  args?: readonly PyValue[];
  kwargs?: Readonly<Record<string, PyValue>>;
  /** Celery's snake_case apply options (`task_id`, `queue`, `countdown`, `link`, …). */
  options?: Readonly<Record<string, OptValue>>;
}

/**
 * `sig.apply_async(args, kwargs, **options)` through an app (`CeleryApp` fits): publishes every
 * message the canvas needs and returns the bound result (chain → last step with `parent`s,
 * group → {@link GroupResult}, chord → the body's result whose parent is the header group).
 */
export async function applyCanvas(
  sig: Signature,
  app: CanvasApp & { readonly client: ResultHost } & Partial<EagerCanvasApp>,
  o: ApplyCanvasOptions = {},
): Promise<CanvasResult> {
  // `task_always_eager`: `apply_async` becomes `apply` (`_chain.apply_async`, `group.apply_async`).
  const eager = app.applyEagerly?.(sig, o.args ?? [], o.kwargs ?? {}, o.options ?? {});
  if (eager) return eager;
  const host = canvasHost(app, o);
  const ref = await applyAsync(sig, host, o.args ?? [], o.kwargs ?? {}, o.options ?? {});
  return bindResult(ref, app.client);
}
