import { Ignore, PythonError, Reject } from '../exceptions';
import { pack, unpack, type Packed } from './transfer';

/**
 * A thrown value crossing the thread boundary. Structured clone keeps an `Error`'s name,
 * message and stack but drops its class and own fields, so what the tracer reads from an error
 * (`excType`/`excModule`/`excArgs` of {@link PythonError}, `pythonType`, `Reject.requeue`) is
 * carried explicitly and the error is rebuilt on the main thread.
 */
export interface PackedError {
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  readonly excType?: string;
  readonly excModule?: string;
  readonly excArgs?: Packed;
  readonly reject?: { reason: string; requeue: boolean };
  readonly ignore?: true;
  /** Set when the error is the main thread's own (from `ctx.retry`): rethrown as that object. */
  readonly token?: number;
  /** A thrown non-Error (`throw 'x'`), as `String(x)`. */
  readonly nonError?: string;
}

function ownString(e: object, key: string): string | undefined {
  const v = (e as Record<string, unknown>)[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** In the thread: describe `e` for the main thread. */
export function packError(e: unknown): PackedError {
  if (!(e instanceof Error)) {
    return { name: 'Error', message: String(e), stack: undefined, nonError: String(e) };
  }
  const base = { name: e.name, message: e.message, stack: e.stack };
  const token = (e as { celeryWireToken?: unknown }).celeryWireToken;
  if (typeof token === 'number') return { ...base, token };
  if (e instanceof PythonError) {
    return {
      ...base,
      excType: e.excType,
      excModule: e.excModule,
      excArgs: pack(e.excArgs),
    };
  }
  if (e instanceof Reject) return { ...base, reject: { reason: e.reason, requeue: e.requeue } };
  if (e instanceof Ignore) return { ...base, ignore: true };
  const excType = ownString(e, 'excType') ?? ownString(e, 'pythonType');
  const excModule = ownString(e, 'excModule');
  // A PythonError from another copy of celery-wire (instanceof fails): its own fields still say it.
  const excArgs = (e as { excArgs?: unknown }).excArgs;
  return {
    ...base,
    ...(excType === undefined ? {} : { excType }),
    ...(excModule === undefined ? {} : { excModule }),
    ...(excType !== undefined && Array.isArray(excArgs) ? { excArgs: pack(excArgs) } : {}),
  };
}

/**
 * On the main thread: an error the tracer handles as it would the original. `own` resolves a
 * token to the main thread's error object (the `Retry`/`Reject` thrown by `ctx.retry`).
 */
export function unpackError(p: PackedError, own: (token: number) => unknown): unknown {
  if (p.token !== undefined) return own(p.token);
  if (p.nonError !== undefined) return p.nonError;
  let e: Error;
  if (p.reject) e = new Reject(p.reject.reason, p.reject.requeue);
  else if (p.ignore === true) e = new Ignore(p.message);
  else if (p.excType !== undefined && p.excArgs !== undefined) {
    e = new PythonError(p.excType, p.message, {
      ...(p.excModule === undefined ? {} : { excModule: p.excModule }),
      args: unpack(p.excArgs) as never,
    });
  } else {
    e = new Error(p.message);
    e.name = p.name;
    if (p.excType !== undefined) Object.assign(e, { excType: p.excType });
    if (p.excModule !== undefined) Object.assign(e, { excModule: p.excModule });
  }
  if (p.stack !== undefined) e.stack = p.stack;
  return e;
}
