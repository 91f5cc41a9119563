import { ProtocolError } from '../errors/errors';
import { isPyDict, type PyValue } from '../serialization/py-values';
import { PyTupleView, pyRepr } from './repr';

/** An exception in the JSON-friendly form Celery stores (`Backend.prepare_exception`). */
export interface ExceptionDict {
  exc_type: string;
  exc_message: PyValue;
  exc_module: string | null;
  [key: string]: PyValue;
}

/** The parts of a Python exception Celery keeps: qualified type name, module and `args`. */
export interface ExceptionInfo {
  /** `type(exc).__qualname__`, e.g. `ValueError` or `Outer.Inner`. */
  excType: string;
  /** `type(exc).__module__`, e.g. `builtins`. */
  excModule: string | null;
  /** `exc.args`. */
  args: readonly PyValue[];
}

/**
 * `Backend.prepare_exception` for non-pickle serializers: key order `exc_type, exc_message,
 * exc_module`, the message being `exc.args` as a list (`celery/backends/base.py`).
 */
export function prepareException(e: ExceptionInfo): ExceptionDict {
  return { exc_type: e.excType, exc_message: [...e.args], exc_module: e.excModule };
}

/** What a client can rebuild from a stored exception (`Backend.exception_to_python`). */
export interface RebuiltException extends ExceptionInfo {
  /**
   * The module Python would attribute the rebuilt class to: the stored module; or
   * `celery.backends.base` when none was stored; Python falls back to `celery.exceptions` when the
   * module cannot be imported, which only the receiving process can know.
   */
  resolvedModule: string;
  /** `str(exc)` as Python prints it. */
  message: string;
}

/**
 * Read an exception document defensively. `exc_message` may be a list (the args) or, from old or
 * foreign writers, a bare value that becomes the single argument (`cls(exc_msg)`).
 */
export function exceptionFromDict(v: PyValue | undefined, path = '/result'): RebuiltException {
  if (!isPyDict(v)) throw new ProtocolError('exception is not an object', { path });
  const t = v.exc_type;
  if (typeof t !== 'string' || t === '') {
    throw new ProtocolError('Exception information must include the exception type', {
      path: `${path}/exc_type`,
    });
  }
  const mod = v.exc_module ?? null;
  if (mod !== null && typeof mod !== 'string') {
    throw new ProtocolError('exc_module is not a string', { path: `${path}/exc_module` });
  }
  const msg = v.exc_message === undefined ? '' : v.exc_message;
  const args: PyValue[] = Array.isArray(msg) ? [...(msg as readonly PyValue[])] : [msg];
  // `BaseException.__str__`: '' for no args, str(arg) for one, repr(args) for several.
  const message =
    args.length === 0
      ? ''
      : args.length === 1
        ? typeof args[0] === 'string'
          ? args[0]
          : pyRepr(args[0] ?? null)
        : pyRepr(new PyTupleView(args));
  return {
    excType: t,
    excModule: mod,
    args,
    resolvedModule: mod ?? 'celery.backends.base',
    message,
  };
}

/** `True` when a result value looks like a stored exception (has `exc_type`). */
export function isExceptionDict(v: PyValue | undefined): v is ExceptionDict {
  return isPyDict(v) && typeof v.exc_type === 'string';
}
