import type { DeliveryInfo } from '../protocol/raw-message';
import type { PyValue } from '../serialization/py-values';
import type { Signature } from '../canvas/signature';
import type { RetryOptions } from './exceptions';

/** Per-task options, Celery's `Task` attributes in camelCase (`celery/app/task.py`). */
export interface TaskOptions {
  /**
   * Positional-or-keyword parameter names, as in the Python signature: keyword arguments are
   * bound to these positions. Without `params` the handler gets the positional args followed by
   * the kwargs object.
   */
  params?: readonly string[];
  /** Defaults for trailing `params` (Python default values). */
  defaults?: Readonly<Record<string, PyValue>>;
  /** Accept keyword arguments not in `params` (`**kwargs`); they arrive as a final object. */
  varKwargs?: boolean;
  /** Pass the {@link TaskContext} as the first argument, like Python's `bind=True` `self`. */
  bind?: boolean;
  acksLate?: boolean;
  rejectOnWorkerLost?: boolean;
  /** `Task.acks_on_failure_or_timeout` (default `taskAcksOnFailureOrTimeout`). */
  acksOnFailureOrTimeout?: boolean;
  /** `Task.acks_on_failure` (5.7; falls back to `acksOnFailureOrTimeout`). */
  acksOnFailure?: boolean;
  /** `Task.acks_on_timeout` (5.7; falls back to `acksOnFailureOrTimeout`). */
  acksOnTimeout?: boolean;
  /** `Task.retry_on_worker_lost` (5.7; default `taskRetryOnWorkerLost`). */
  retryOnWorkerLost?: boolean;
  ignoreResult?: boolean;
  storeErrorsEvenIfIgnored?: boolean;
  trackStarted?: boolean;
  /** Hard limit in seconds. */
  timeLimit?: number | null;
  /** Soft limit in seconds: the context's `signal` aborts with `SoftTimeLimitExceeded`. */
  softTimeLimit?: number | null;
  /** `"10/m"`, `"5/s"`, `"100/h"` or a number per second. */
  rateLimit?: string | number | null;
  /** Default 3; `null` retries forever. */
  maxRetries?: number | null;
  /** Seconds; default 180. */
  defaultRetryDelay?: number;
  /** Emit task events for this task (Celery `send_events`, default true). */
  sendEvents?: boolean;
  /** Where the body runs: `prefork` (a pool thread) or `solo` (the main thread); docs/pool.md. */
  pool?: 'prefork' | 'solo' | 'threads';
  /**
   * Linked as an errback (`link_error`), the task is called inline by the failing worker with
   * `(request, exc, traceback, ...sig.args)` (Celery's new-style errback,
   * `celery/backends/base.py`, `Backend._call_task_errbacks`). Default: inferred as Celery does
   * from the arity, when `params` are declared (more than one parameter left after the
   * signature's own args, and not `bind`); otherwise old style (published with the task id).
   */
  newStyleErrback?: boolean;
}

/** What a running task knows of itself: Celery's `self.request`, camelCased. */
export interface TaskRequestInfo {
  readonly id: string;
  readonly task: string;
  readonly retries: number;
  readonly rootId: string | null;
  readonly parentId: string | null;
  readonly group: string | null;
  readonly groupIndex: number | null;
  /** ISO strings as sent. */
  readonly eta: string | null;
  readonly expires: string | null;
  readonly correlationId: string | null;
  readonly replyTo: string | null;
  readonly deliveryInfo: DeliveryInfo;
  /** The worker's node name. */
  readonly hostname: string;
  readonly args: readonly PyValue[];
  readonly kwargs: Readonly<Record<string, PyValue>>;
  readonly timelimit: readonly [PyValue, PyValue] | null;
  readonly shadow: string | null;
  readonly origin: string | null;
  /** All message headers (v2 form). */
  readonly headers: Readonly<Record<string, PyValue>>;
  /** The message properties (`request.properties`: `correlation_id`, `reply_to`, `app_id`…). */
  readonly properties: Readonly<Record<string, PyValue>>;
  /** `request.time_limit` / `request.soft_time_limit`: the message's `timelimit` pair. */
  readonly timeLimit: PyValue;
  readonly softTimeLimit: PyValue;
  /** `request.replaced_task_nesting`: how many `replace` calls led to this task (0: none). */
  readonly replacedTaskNesting: number;
  /** `request.callbacks` / `errbacks` / `chain` / `chord` as received (signature dicts). */
  readonly callbacks: readonly PyValue[] | null;
  readonly errbacks: readonly PyValue[] | null;
  readonly chain: readonly PyValue[] | null;
  readonly chord: PyValue;
  /** `request.stamps` / `stamped_headers`. */
  readonly stamps: Readonly<Record<string, PyValue>> | null;
}

/** The `self` of a bound task. */
export interface TaskContext extends TaskRequestInfo {
  /** Aborted on soft time limit (reason `SoftTimeLimitExceeded`), hard limit, or revoke+terminate. */
  readonly signal: AbortSignal;
  /**
   * `Task.retry`: publishes the retry message and rejects with the `Retry` semi-predicate (or
   * the original `exc` / `MaxRetriesExceededError` when retries are exhausted). Use
   * `return ctx.retry(…)` or `await ctx.retry(…)`.
   */
  retry(opts?: RetryOptions): Promise<never>;
  /** `Task.update_state`: store a custom state (e.g. `PROGRESS`) with `meta` as its result. */
  updateState(state: string, meta?: PyValue): Promise<void>;
  /**
   * `Task.replace(sig)`: publish `sig` in this task's place (same task id; this task's
   * callbacks, errbacks, chain remainder and chord membership move to it) and reject with
   * `Ignore` so nothing is stored for this run. Use `return ctx.replace(…)`.
   */
  replace(sig: Signature): Promise<never>;
  /**
   * `Task.add_to_chord(sig, lazy)`: add `sig` to the chord this task is a member of (the chord
   * then waits for it too) and publish it unless `lazy`. Returns its frozen task id. Needs a
   * backend with native chords (Redis), as Celery.
   */
  addToChord(sig: Signature, opts?: { lazy?: boolean }): Promise<string>;
}

/** A task function; see {@link TaskOptions.bind} and {@link TaskOptions.params}. */
export type TaskHandler = (...args: never[]) => unknown;

/** A registered task. */
export interface TaskDefinition {
  readonly name: string;
  readonly handler: TaskHandler;
  readonly options: Readonly<TaskOptions>;
}

/** Define a task; register it by passing it to the worker (or exporting it from the app module). */
export function defineTask(
  name: string,
  handler: TaskHandler,
  options: TaskOptions = {},
): TaskDefinition {
  return { name, handler, options: { ...options } };
}

const registries = new WeakMap<TaskDefinition, TaskRegistry>();

/** The registry `def` was last registered in (the worker's `app.tasks`), for inline errbacks. */
export function registryOf(def: TaskDefinition): TaskRegistry | undefined {
  return registries.get(def);
}

/** Name → definition, as `app.tasks`. */
export class TaskRegistry {
  private readonly tasks = new Map<string, TaskDefinition>();

  constructor(defs: Iterable<TaskDefinition> = []) {
    for (const d of defs) this.register(d);
  }

  register(def: TaskDefinition): void {
    this.tasks.set(def.name, def);
    registries.set(def, this);
  }

  get(name: string): TaskDefinition | undefined {
    return this.tasks.get(name);
  }

  names(): string[] {
    return [...this.tasks.keys()].sort();
  }
}
