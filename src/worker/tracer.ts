import type { CeleryConfig } from '../config/config';
import type { ResultBackend } from '../backends/backend';
import { isCeleryError } from '../errors/errors';
import { prepareException, type ExceptionInfo } from '../protocol/exception';
import { pyRepr } from '../protocol/repr';
import { saferepr } from '../protocol/saferepr';
import { FAILURE, RETRY, STARTED, SUCCESS } from '../protocol/states';
import type { TaskInput } from '../protocol/task-input';
import type { PublishTarget } from '../brokers/broker';
import { pyFloatRepr } from '../serialization/py-float';
import { PyFloat, type PyValue } from '../serialization/py-values';
import { bindArgs } from './bind-args';
import { resultTuple } from '../protocol/result-meta';
import { inlineExecutor, type TaskExecutor } from './executor';
import type { CurrentWorkerTask } from '../client/current-task';
import {
  afterFailure,
  afterSuccess,
  callErrbacks,
  canvasRequestOf,
  dispatchCallbacksAndChain,
  workerCanvasHost,
  type ProgressionHost,
} from '../canvas/index';
import type { InlineErrbackHost } from '../canvas/progression';
import {
  Ignore,
  PythonError,
  Reject,
  Retry,
  TimeLimitExceeded,
  exceptionInfoOf,
  type RetryOptions,
} from './exceptions';
import type { WorkerRequest } from './request';
import { callInlineErrbacks, splitErrbacks } from './errbacks';
import { addToChord, replaceTask } from './replace';
import { planRetry } from './retry';
import type { TaskContext, TaskRequestInfo } from './task';
import { formatTraceback } from './traceback';
import { setLongTimeout, type LongTimer } from './long-timer';

/** How a run ended; the worker acks/rejects from this (behaviour.md §2). */
export type TraceOutcome =
  | { kind: 'success'; retval: PyValue; runtime: number }
  | { kind: 'failure'; info: ExceptionInfo; timeout: boolean }
  | { kind: 'retry' }
  | { kind: 'reject'; requeue: boolean }
  | { kind: 'ignore' }
  | { kind: 'terminated' }
  /** Cold shutdown: nothing stored, nothing acked; the message goes back to the broker. */
  | { kind: 'abandoned' };

/** What the tracer needs from the worker. */
export interface TraceEnv {
  backend: ResultBackend | null;
  config: CeleryConfig;
  hostname: string;
  pid: number;
  /** Monotonic seconds, for `runtime`. */
  monotonic: () => number;
  /** Send a task event for `req` (dropped when its task has `send_events=False`). */
  sendEvent: (type: string, fields: Record<string, PyValue>, req: WorkerRequest) => void;
  publish: (input: TaskInput, target: PublishTarget) => Promise<void>;
  log: (level: 'info' | 'warn' | 'error', msg: string) => void;
  /** Runs the task body (`src/worker/executor.ts`); in-process when absent. */
  executor?: TaskExecutor;
}

/** Control of one running task: abort (soft limit / terminate) and its stop signal. */
export interface RunControl {
  abort: AbortController;
  /**
   * Resolves when the run must stop without its own result: `terminated` (revoke
   * terminate=True) or `abandoned` (cold shutdown: the message is restored, as on a crash). One
   * promise per run: racing a worker-wide promise would pin every finished run to it (a leak).
   */
  stopped: Promise<'terminated' | 'abandoned'>;
}

function excRepr(info: ExceptionInfo): string {
  return `${info.excType}(${info.args.map((a) => pyRepr(a)).join(', ')})`;
}

/**
 * Canvas progression (`src/canvas/progression.ts`): callbacks, chain steps, chord bodies and
 * errbacks are applied as Celery's worker applies them, with this worker as the publisher.
 */
type WorkerHost = ReturnType<typeof workerCanvasHost> & InlineErrbackHost;

function canvasOf(env: TraceEnv, req?: WorkerRequest): WorkerHost {
  // One host per env (the pool keeps one env): built lazily, reused by every run.
  let host = hosts.get(env);
  if (!host) {
    host = workerCanvasHost({
      config: env.config,
      oid: '',
      publish: env.publish,
      backend: env.backend,
    });
    hosts.set(env, host);
  }
  if (req && !host.callInlineErrbacks) {
    // Errbacks reached through the canvas (chord errors) run inline too, with a request
    // carrying the failed id, as Celery's `_create_fake_task_request`.
    const owner = req.def;
    host.callInlineErrbacks = async (taskId, errbacks, exc) => {
      const split = splitErrbacks(errbacks, owner);
      await callInlineErrbacks(split.inline, fakeRequest(taskId), exc, null, (m) => {
        env.log('error', m);
      });
      return split.published;
    };
  }
  return host;
}

/** `_create_fake_task_request(task_id=…)`: the fields an errback reads. */
function fakeRequest(id: string): TaskRequestInfo {
  return { id } as unknown as TaskRequestInfo;
}

const hosts = new WeakMap<TraceEnv, WorkerHost>();

function withBackend(host: ReturnType<typeof workerCanvasHost>): ProgressionHost | null {
  const { backend } = host;
  return backend ? { ...host, backend } : null;
}

/** `mark_as_failure` after the own FAILURE: chord part, chain remainder, errbacks. */
async function progressFailure(
  req: WorkerRequest,
  env: TraceEnv,
  info: ExceptionInfo,
  tb: string | null,
  storeErrors: boolean,
  exc: unknown = null,
): Promise<void> {
  const host = canvasOf(env, req);
  // New-style errbacks this worker has run inline; the rest are published (`_call_task_errbacks`).
  const split = splitErrbacks(req.decoded.embed.errbacks, req.def);
  const creq = { ...canvasRequestOf(req.decoded), errbacks: split.published };
  const full = withBackend(host);
  if (split.inline.length > 0) {
    await callInlineErrbacks(split.inline, req.info(), exc, tb, (m) => {
      env.log('error', m);
    });
  }
  try {
    if (full) await afterFailure(creq, prepareException(info), tb, full, FAILURE, storeErrors);
    else if (creq.errbacks.length) await callErrbacks(creq.id, creq.rootId, creq.errbacks, host);
  } catch (err) {
    env.log('error', `canvas progression of ${req.id} failed: ${String(err)}`);
  }
}

const TIMEOUT = Symbol('timeout');
const TERMINATED = Symbol('terminated');
const ABANDONED = Symbol('abandoned');

function toPyValue(v: unknown): PyValue {
  return v === undefined ? null : (v as PyValue);
}

/**
 * `celery/app/trace.py`, `build_tracer.trace_task` for one request: STARTED (track_started),
 * run, then store SUCCESS/FAILURE/RETRY and emit the matching event. Storage failures of the
 * return value become FAILURE `kombu.exceptions.EncodeError`, as Celery's tracer does.
 */
export async function traceTask(
  req: WorkerRequest,
  env: TraceEnv,
  run: RunControl,
): Promise<TraceOutcome> {
  const backend = env.backend;
  const opts = req.def.options;
  const trackStarted = (opts.trackStarted ?? env.config.taskTrackStarted) && !req.ignoreResult;
  if (trackStarted && backend) {
    await backend.storeResult(req.id, { pid: env.pid, hostname: env.hostname }, STARTED, {
      request: req.storeRequest(),
    });
  }
  const started = env.monotonic();
  const trail = workerTaskOf(req);

  let hardTimer: LongTimer | undefined;
  let softTimer: LongTimer | undefined;
  const races: Promise<unknown>[] = [
    Promise.resolve().then(() =>
      (env.executor ?? inlineExecutor).run({
        req,
        args: bindArgs(req.def, req.decoded.args, req.decoded.kwargs),
        signal: run.abort.signal,
        context: () => makeContext(req, env, run.abort.signal, trail),
        trail,
      }),
    ),
    run.stopped.then((why) => (why === 'terminated' ? TERMINATED : ABANDONED)),
  ];
  if (req.hardLimit !== null) {
    const ms = req.hardLimit * 1000;
    races.push(
      new Promise((resolve) => {
        hardTimer = setLongTimeout(() => {
          resolve(TIMEOUT);
        }, ms);
      }),
    );
  }
  if (req.softLimit !== null) {
    softTimer = setLongTimeout(() => {
      run.abort.abort(new SoftTimeLimitExceededReason());
    }, req.softLimit * 1000);
  }
  let r: unknown;
  try {
    r = await Promise.race(races);
  } catch (e) {
    // Only the task body's own errors take the failure path: errors after the body returned
    // are handled by `onSuccess` (never a FAILURE over a published chain, never errbacks).
    return await onError(req, env, e, trail.children);
  } finally {
    hardTimer?.cancel();
    softTimer?.cancel();
  }
  if (r === TIMEOUT) {
    run.abort.abort(new TimeLimitExceeded(req.hardLimitValue));
    return onTimeout(req, env);
  }
  if (r === ABANDONED) return { kind: 'abandoned' };
  if (r === TERMINATED) return { kind: 'terminated' };
  return onSuccess(req, env, toPyValue(r), env.monotonic() - started, trail.children);
}

/** `current_worker_task` for the body: what it sends gets this as parent (`send_task`). */
function workerTaskOf(req: WorkerRequest): CurrentWorkerTask {
  const info = req.info();
  const p = info.deliveryInfo.priority;
  return {
    id: req.id,
    rootId: info.rootId,
    priority: typeof p === 'number' ? p : null,
    children: [],
  };
}

/** The abort reason of a soft limit: `billiard.exceptions.SoftTimeLimitExceeded()`. */
export class SoftTimeLimitExceededReason extends PythonError {
  constructor() {
    super('SoftTimeLimitExceeded', 'SoftTimeLimitExceeded()', {
      excModule: 'billiard.exceptions',
      args: [],
    });
  }
}

/**
 * The success path of `build_tracer` (`celery/app/trace.py`): callbacks and the next chain step
 * are published *before* SUCCESS is stored (so `children` is filled). Failures here follow
 * Celery: publishing the callbacks fails → the failure path (nothing was published); an
 * EncodeError storing the result of a task with nothing published → FAILURE EncodeError; any
 * other error once the callbacks/chain went out → logged only, so the errbacks never run for
 * a task whose chain already continues and no FAILURE is stored over it.
 */
async function onSuccess(
  req: WorkerRequest,
  env: TraceEnv,
  retval: PyValue,
  runtime: number,
  sent: readonly PyValue[] = [],
): Promise<TraceOutcome> {
  // `request.children`: what the body sent first, then the callbacks and chain step.
  const children: PyValue[] = [...sent];
  const creq = canvasRequestOf(req.decoded);
  // Hot path: a plain task has no callbacks and no chain, so nothing to apply.
  const hasNext = (creq.callbacks?.length ?? 0) > 0 || (creq.chain?.length ?? 0) > 0;
  if (hasNext) {
    try {
      children.push(...(await dispatchCallbacksAndChain(creq, retval, canvasOf(env, req))));
    } catch (e) {
      return onError(req, env, e, sent);
    }
  }
  if (!req.ignoreResult && env.backend) {
    try {
      await env.backend.storeResult(req.id, retval, SUCCESS, {
        request: req.storeRequest(children),
      });
    } catch (e) {
      if (!hasNext && isCeleryError(e) && e.name === 'EncodeError') {
        const enc = new PythonError('EncodeError', e.message, { excModule: 'kombu.exceptions' });
        return onError(req, env, enc);
      }
      env.log(
        'error',
        `Task ${req.name}[${req.id}] succeeded but its result could not be stored: ${String(e)}`,
      );
      return { kind: 'success', retval, runtime };
    }
  }
  if (creq.chord !== null) {
    const full = withBackend(canvasOf(env, req));
    try {
      if (full) await afterSuccess(creq, retval, full);
    } catch (e) {
      env.log('error', `Task ${req.name}[${req.id}] chord part return failed: ${String(e)}`);
    }
  }
  const resultRepr = saferepr(retval, { maxlen: 1024 });
  // Celery's INFO line (`celery/app/trace.py`, `LOG_SUCCESS`).
  env.log(
    'info',
    `Task ${req.name}[${req.id}] succeeded in ${pyFloatRepr(runtime)}s: ${resultRepr}`,
  );
  env.sendEvent(
    'task-succeeded',
    { uuid: req.id, result: resultRepr, runtime: new PyFloat(runtime) },
    req,
  );
  return { kind: 'success', retval, runtime };
}

async function onTimeout(req: WorkerRequest, env: TraceEnv): Promise<TraceOutcome> {
  const info = exceptionInfoOf(new TimeLimitExceeded(req.hardLimitValue));
  env.log(
    'error',
    `Hard time limit (${String(req.hardLimit)}s) exceeded for ${req.name}[${req.id}]`,
  );
  // `Request.on_timeout` → `mark_as_failure(..., traceback=None)`: stored regardless of store_errors.
  if (env.backend) {
    await env.backend.storeResult(req.id, prepareException(info), FAILURE, {
      traceback: null,
      request: req.storeRequest(),
    });
  }
  await progressFailure(
    req,
    env,
    info,
    null,
    req.storeErrors,
    new TimeLimitExceeded(req.hardLimitValue),
  );
  env.sendEvent('task-failed', { uuid: req.id, exception: excRepr(info), traceback: '' }, req);
  return { kind: 'failure', info, timeout: true };
}

async function onError(
  req: WorkerRequest,
  env: TraceEnv,
  e: unknown,
  children: readonly PyValue[] = [],
): Promise<TraceOutcome> {
  if (e instanceof Retry) {
    const info = e.exc === undefined || e.exc === null ? null : exceptionInfoOf(e.exc);
    const tb = formatTraceback(e, {
      excType: 'Retry',
      excModule: 'celery.exceptions',
      args: [e.message],
    });
    if (req.storeErrors && env.backend) {
      await env.backend.storeResult(req.id, info ? prepareException(info) : null, RETRY, {
        traceback: tb,
        request: req.storeRequest(children),
      });
    }
    // `Request.on_retry`: `exception=safe_repr(exc_info.exception.exc)` — the exception the
    // retry was given, `'None'` when `retry()` had none (the Retry itself is only in the traceback).
    env.sendEvent(
      'task-retried',
      {
        uuid: req.id,
        exception: info ? excRepr(info) : 'None',
        traceback: tb,
      },
      req,
    );
    env.log('info', `Task ${req.name}[${req.id}] retry: ${e.message}`);
    return { kind: 'retry' };
  }
  if (e instanceof Reject) {
    env.log('info', `${req.name}[${req.id}] rejected: ${e.reason}`);
    if (!e.requeue && rejectStoresFailure(env.config.celeryLine))
      await onRejectFailure(req, env, e);
    return { kind: 'reject', requeue: e.requeue };
  }
  if (e instanceof Ignore) return { kind: 'ignore' };
  const info = exceptionInfoOf(e);
  const tb = formatTraceback(e, info);
  if (req.storeErrors && env.backend) {
    const exc = prepareException(info);
    await env.backend.storeResult(req.id, exc, FAILURE, {
      traceback: tb,
      request: req.storeRequest(children),
    });
  }
  // Celery ≥5.1 `mark_as_failure`: chord part return, every remaining chain step FAILURE (so
  // `.get()` on the chain's last result does not hang), then the errbacks.
  await progressFailure(req, env, info, tb, req.storeErrors, e);
  env.log('error', `Task ${req.name}[${req.id}] raised unexpected: ${excRepr(info)}`);
  env.sendEvent('task-failed', { uuid: req.id, exception: excRepr(info), traceback: tb }, req);
  return { kind: 'failure', info, timeout: false };
}

/** Celery 5.7 (`Request.on_failure`, Issue #4222): `Reject(requeue=False)` is a terminal FAILURE. */
function rejectStoresFailure(line: string): boolean {
  const [major, minor] = line.split('.').map(Number);
  return (major ?? 0) > 5 || ((major ?? 0) === 5 && (minor ?? 0) >= 7);
}

/** `mark_as_failure(id, Reject(reason, False), store_result=store_errors)` + `task-failed`. */
async function onRejectFailure(req: WorkerRequest, env: TraceEnv, e: Reject): Promise<void> {
  const info: ExceptionInfo = {
    excType: 'Reject',
    excModule: 'celery.exceptions',
    args: [e.reason, e.requeue],
  };
  if (req.storeErrors && env.backend) {
    await env.backend.storeResult(req.id, prepareException(info), FAILURE, {
      traceback: null,
      request: req.storeRequest(),
    });
  }
  await progressFailure(req, env, info, null, req.storeErrors, e);
  env.sendEvent('task-failed', { uuid: req.id, exception: excRepr(info), traceback: '' }, req);
}

function makeContext(
  req: WorkerRequest,
  env: TraceEnv,
  signal: AbortSignal,
  trail?: CurrentWorkerTask,
): TaskContext {
  const info = req.info();
  return {
    ...info,
    signal,
    retry: async (opts: RetryOptions = {}): Promise<never> => {
      const plan = planRetry(req, opts, env.config);
      try {
        await env.publish(plan.input, plan.target);
      } catch (e) {
        // `Task.retry`: a failed publish becomes `Reject(exc, requeue=False)`.
        env.log('error', `retry of ${req.id} could not be published: ${String(e)}`);
        throw new Reject(String(e), false);
      }
      throw new Retry(opts.exc, plan.when);
    },
    updateState: async (state: string, meta: PyValue = null): Promise<void> => {
      if (env.backend) {
        await env.backend.storeResult(req.id, meta, state, { request: req.storeRequest() });
      }
    },
    replace: (sig) => replaceTask(sig, info, canvasOf(env)),
    addToChord: (sig, o = {}) => {
      const join = env.backend?.chordJoin;
      const incr = join?.addToChord?.bind(join);
      const lazy = o.lazy ?? false;
      return addToChord(sig, info, canvasOf(env), incr, lazy).then((id) => {
        // `return sig.delay() if not lazy else sig`: the delay records it among the children.
        if (!lazy) trail?.children.push(resultTuple(id));
        return id;
      });
    },
  };
}
