import type { ExceptionInfo } from '../protocol/exception';
import { pyRepr } from '../protocol/repr';
import type { PyValue } from '../serialization/py-values';

/**
 * An error that names the Python exception class it stands for, so that Python clients rebuild
 * it (`celery/backends/base.py`, `Backend.exception_to_python`: `exc_module` is imported and
 * `exc_type` looked up in it). Throw it from a task, or set `excType`/`excModule` (or
 * `pythonType`) on any `Error`.
 */
export class PythonError extends Error {
  readonly excType: string;
  readonly excModule: string;
  /** `exc.args`; defaults to `[message]`. */
  readonly excArgs: readonly PyValue[];

  constructor(
    excType: string,
    message: string,
    opts: { excModule?: string; args?: readonly PyValue[]; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = excType;
    this.excType = excType;
    this.excModule = opts.excModule ?? 'builtins';
    this.excArgs = opts.args ?? [message];
  }
}

/** `celery.exceptions.MaxRetriesExceededError`. */
export class MaxRetriesExceededError extends PythonError {
  constructor(message: string) {
    super('MaxRetriesExceededError', message, { excModule: 'celery.exceptions' });
  }
}

/** `billiard.exceptions.SoftTimeLimitExceeded()`: raised with no args (`soft_timeout_sighandler`). */
export class SoftTimeLimitExceeded extends PythonError {
  constructor() {
    super('SoftTimeLimitExceeded', 'SoftTimeLimitExceeded()', {
      excModule: 'billiard.exceptions',
      args: [],
    });
  }
}

/** `billiard.exceptions.TimeLimitExceeded(<hard limit>)` (`Request.on_timeout`). */
export class TimeLimitExceeded extends PythonError {
  constructor(limit: PyValue) {
    super('TimeLimitExceeded', `TimeLimitExceeded(${pyRepr(limit)})`, {
      excModule: 'billiard.exceptions',
      args: [limit],
    });
  }
}

/** `celery.exceptions.TaskRevokedError(reason)`, reason `revoked`/`expired`/`terminated`. */
export class TaskRevokedError extends PythonError {
  constructor(reason: string) {
    super('TaskRevokedError', reason, { excModule: 'celery.exceptions' });
  }
}

/** `celery.exceptions.NotRegistered(name)` (a `KeyError`). */
export class NotRegistered extends PythonError {
  constructor(name: string) {
    super('NotRegistered', name, { excModule: 'celery.exceptions' });
  }
}

/** Options of {@link Retry}: what `Task.retry()` accepts. */
export interface RetryOptions {
  /** Seconds from now; default the task's `defaultRetryDelay` (180) unless `eta` is given. */
  countdown?: number;
  /** Absolute time of the retry. */
  eta?: Date;
  /** The exception that caused the retry; stored as the RETRY result, re-thrown at max retries. */
  exc?: unknown;
  /** Overrides the task's `maxRetries` (`null` = retry forever). */
  maxRetries?: number | null;
  args?: readonly PyValue[];
  kwargs?: Readonly<Record<string, PyValue>>;
  /**
   * `retry(expires=…)`: seconds from now, an absolute time or ISO text; `null` sends the retry
   * without expiry (as Python's explicit `expires=None`); absent keeps the request's.
   */
  expires?: number | Date | string | null;
}

/** `str(datetime)` of an aware UTC datetime: `2026-01-02 03:04:05.678000+00:00`. */
function pyDatetimeStr(d: Date): string {
  const iso = d.toISOString(); // 2026-01-02T03:04:05.678Z
  const ms = d.getUTCMilliseconds();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${ms ? `.${String(ms * 1000).padStart(6, '0')}` : ''}+00:00`;
}

/**
 * `str(Retry(exc=exc, when=when))` (`celery/exceptions.py`, `Retry.__str__`): `Retry in 5s` or
 * `Retry at <eta>`, then `: <safe_repr(exc)>` when there is an exception — what Celery logs
 * (`Task … retry: …`) and puts on the traceback's last line.
 */
function retryMessage(exc: unknown, when: number | Date): string {
  const human = typeof when === 'number' ? `in ${String(when)}s` : `at ${pyDatetimeStr(when)}`;
  if (exc === undefined || exc === null || exc === '') return `Retry ${human}`;
  if (typeof exc === 'string') return `Retry ${human}: ${exc}`;
  const info = exceptionInfoOf(exc);
  return `Retry ${human}: ${info.excType}(${info.args.map((a) => pyRepr(a)).join(', ')})`;
}

/**
 * The `celery.exceptions.Retry` semi-predicate: thrown by `ctx.retry()` after the retry message
 * was published, so that the worker stores RETRY and acks.
 */
export class Retry extends Error {
  constructor(
    readonly exc: unknown,
    readonly when: number | Date,
  ) {
    super(retryMessage(exc, when));
    this.name = 'Retry';
  }
}

/** `celery.exceptions.Reject(reason, requeue)`: reject the message instead of storing a result. */
export class Reject extends Error {
  constructor(
    readonly reason: string,
    readonly requeue = false,
  ) {
    super(reason);
    this.name = 'Reject';
  }
}

/** `celery.exceptions.Ignore`: ack and store nothing. */
export class Ignore extends Error {
  constructor(reason = '') {
    super(reason);
    this.name = 'Ignore';
  }
}

/**
 * JavaScript built-in errors → the Python builtin a Python client rebuilds. Chosen by meaning:
 * `RangeError` (a value outside what a function accepts) is `ValueError`; `ReferenceError` is
 * `NameError`; anything else, and any thrown non-Error, is `Exception`.
 */
const JS_TO_PYTHON: Readonly<Record<string, string>> = {
  TypeError: 'TypeError',
  RangeError: 'ValueError',
  ReferenceError: 'NameError',
  SyntaxError: 'SyntaxError',
  URIError: 'ValueError',
  EvalError: 'Exception',
  AggregateError: 'Exception',
  Error: 'Exception',
};

function ownString(e: object, key: string): string | undefined {
  const v = (e as Record<string, unknown>)[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The Python exception a thrown value is stored as (`prepare_exception` input). */
export function exceptionInfoOf(e: unknown): ExceptionInfo {
  if (e instanceof PythonError) {
    return { excType: e.excType, excModule: e.excModule, args: [...e.excArgs] };
  }
  if (e instanceof Error) {
    const named = ownString(e, 'excType') ?? ownString(e, 'pythonType');
    if (named !== undefined) {
      const dot = named.lastIndexOf('.');
      const excType = dot === -1 ? named : named.slice(dot + 1);
      const excModule =
        ownString(e, 'excModule') ?? (dot === -1 ? 'builtins' : named.slice(0, dot));
      return { excType, excModule, args: [e.message] };
    }
    return {
      excType: JS_TO_PYTHON[e.name] ?? 'Exception',
      excModule: 'builtins',
      args: [e.message],
    };
  }
  return { excType: 'Exception', excModule: 'builtins', args: [String(e)] };
}
