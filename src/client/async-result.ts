import type { ResultBackend, TaskMeta } from '../backends/backend';
import { BackendError, TaskFailedError, TaskRevokedError } from '../errors/errors';
import { FAILURE, PROPAGATE_STATES, READY_STATES, REVOKED, SUCCESS } from '../protocol/states';
import { pyRepr } from '../protocol/repr';
import type { PyValue } from '../serialization/py-values';

/** What an {@link AsyncResult} needs from its app. */
export interface ResultHost {
  /** The result backend (connected lazily). */
  backend(): Promise<ResultBackend>;
  /** Broadcast a pidbox `revoke` (`Control.revoke`). */
  revoke(taskIds: readonly string[], opts: RevokeOptions): Promise<void>;
}

/** Options of {@link AsyncResult.revoke} (`Control.revoke`). */
export interface RevokeOptions {
  /** Also kill the process running the task (prefork pool). */
  terminate?: boolean;
  /** Signal name used with `terminate` (default `SIGTERM`). */
  signal?: string;
}

/** Options of {@link AsyncResult.get} (`AsyncResult.get`). */
export interface GetOptions {
  /** Seconds to wait before rejecting with a `TimeoutError` (default: forever). */
  timeout?: number;
  /** Reject with the task's error on FAILURE/REVOKED (default `true`). */
  propagate?: boolean;
  /** Abort waiting. */
  signal?: AbortSignal;
  /**
   * Accepted for Celery parity (`interval`, seconds between polls); our backends never poll
   * (Redis pub/sub, RPC consumer), so it has no effect.
   */
  interval?: number;
  /** Every state seen while waiting (STARTED, PROGRESS, …), like Celery's `on_message`. */
  onState?: (meta: TaskMeta) => void;
}

/** The error a finished document stands for (`AsyncResult.maybe_throw`), or `undefined`. */
export function errorOf(taskId: string, meta: TaskMeta): Error | undefined {
  if (!PROPAGATE_STATES.has(meta.status)) return undefined;
  const e = meta.error;
  if (meta.status === REVOKED || e?.excType === 'TaskRevokedError') {
    return new TaskRevokedError(e && e.message !== '' ? e.message : 'revoked', { taskId });
  }
  if (!e) {
    return new TaskFailedError({
      taskId,
      excType: 'Exception',
      excModule: null,
      excMessage: pyRepr(meta.result),
      excArgs: [meta.result],
      traceback: meta.traceback,
    });
  }
  // `KeyError.__str__` is the repr of its single argument: Python prints `KeyError: 'nope'`.
  const excMessage =
    e.excType === 'KeyError' && e.args.length === 1 ? pyRepr(e.args[0] ?? null) : e.message;
  return new TaskFailedError({
    taskId,
    excType: e.excType,
    excModule: e.excModule,
    excMessage,
    excArgs: e.args,
    traceback: meta.traceback,
  });
}

/**
 * A handle on a task's result, as Celery's `celery.result.AsyncResult`. Reads go to the result
 * backend each time until the task is ready; the ready document is then cached (`_cache`).
 */
export class AsyncResult<R = PyValue> {
  private cache: TaskMeta | undefined;

  /**
   * @param id the task id
   * @param host the app (backend and control access)
   * @param ignored the task was sent with `ignoreResult` (Celery's `result.ignored`)
   */
  constructor(
    readonly id: string,
    private readonly host: ResultHost,
    readonly ignored = false,
  ) {}

  /** The latest document (`_get_task_meta`); PENDING when nothing was stored yet. */
  async meta(): Promise<TaskMeta> {
    if (this.cache) return this.cache;
    const meta = await (await this.host.backend()).getTaskMeta(this.id);
    if (READY_STATES.has(meta.status)) this.cache = meta;
    return meta;
  }

  /** Current state (`AsyncResult.state`): PENDING, STARTED, SUCCESS, FAILURE, custom, … */
  get state(): Promise<string> {
    return this.meta().then((m) => m.status);
  }

  /** Same as {@link state} (`AsyncResult.status`). */
  get status(): Promise<string> {
    return this.state;
  }

  /** The result, or the exception document for failures (`AsyncResult.result` / `.info`). */
  get result(): Promise<PyValue> {
    return this.meta().then((m) => m.result);
  }

  /** Alias of {@link result}: custom states' metadata (e.g. progress) lives here. */
  get info(): Promise<PyValue> {
    return this.result;
  }

  /** The worker's traceback for failures. */
  get traceback(): Promise<string | null> {
    return this.meta().then((m) => m.traceback);
  }

  /** SUCCESS, FAILURE or REVOKED. */
  async ready(): Promise<boolean> {
    return READY_STATES.has(await this.state);
  }

  async successful(): Promise<boolean> {
    return (await this.state) === SUCCESS;
  }

  async failed(): Promise<boolean> {
    return (await this.state) === FAILURE;
  }

  /**
   * Wait for the task and return its value (`AsyncResult.get`). Rejects with
   * `TaskFailedError` (`ExcType: message`), `TaskRevokedError`, or `TimeoutError`
   * (`CeleryTimeoutError`) after `timeout` seconds. With `propagate: false` a failed task resolves
   * to its stored exception document instead.
   */
  async get(opts: GetOptions = {}): Promise<R> {
    if (this.ignored) {
      throw new BackendError(
        `task ${this.id} was sent with ignoreResult: no result will be stored to wait for`,
      );
    }
    let meta = this.cache;
    if (!meta) {
      const backend = await this.host.backend();
      meta = await backend.waitForResult(this.id, {
        ...(opts.timeout === undefined ? {} : { timeoutMs: opts.timeout * 1000 }),
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.onState ? { onState: opts.onState } : {}),
      });
      this.cache = meta;
    }
    if (opts.propagate ?? true) {
      const err = errorOf(this.id, meta);
      if (err) throw err;
    }
    return meta.result as R;
  }

  /** Delete the stored result (`AsyncResult.forget`). */
  async forget(): Promise<void> {
    this.cache = undefined;
    await (await this.host.backend()).forget(this.id);
  }

  /** Ask every worker to discard (or, with `terminate`, kill) this task (`AsyncResult.revoke`). */
  revoke(opts: RevokeOptions = {}): Promise<void> {
    return this.host.revoke([this.id], opts);
  }

  toString(): string {
    return this.id;
  }
}
