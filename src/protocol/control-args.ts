import { PyFloat, type PyValue } from '../serialization/py-values';

/**
 * Control-command arguments arrive as whatever the sender put on the wire: Celery's CLI converts
 * them with the command's `args` types (`celery/bin/control.py`, `_compile_arguments`), Flower
 * sends `terminate=1`, hand-written broadcasts send strings for numbers. A Python worker reads
 * them with plain truthiness (`if terminate:`) and `int()`/`float()`; these helpers do the same.
 */

/** Python truthiness (`bool(v)`): `0`, `''`, `None`, `False`, `[]`, `{}` are false. */
export function pyTruthy(v: PyValue | undefined): boolean {
  if (v === undefined || v === null || v === false) return false;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'string') return v.length > 0;
  if (v instanceof PyFloat) return v.value !== 0;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Uint8Array) return v.length > 0;
  if (typeof v === 'object' && v.constructor === Object) return Object.keys(v).length > 0;
  return true;
}

/** `strtobool` of `celery/utils/serialization.py` (the `conf` command's `with_defaults`). */
export function strtobool(v: PyValue | undefined): boolean {
  if (typeof v !== 'string') return pyTruthy(v);
  const s = v.toLowerCase();
  if (['true', '1', 'yes', 'on', 'y', 't'].includes(s)) return true;
  if (['false', '0', 'no', 'off', 'n', 'f', ''].includes(s)) return false;
  throw new TypeError(`${v} is not a boolean`);
}

/** A number argument: int/float as sent, or a numeric string (`int('2')`); else `undefined`. */
export function numArg(v: PyValue | undefined): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof PyFloat) return v.value;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return undefined;
}

/** A string argument, or `undefined`. */
export function strArg(v: PyValue | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** `maybe_list(v)` of string items: one id or a list of ids. */
export function idList(v: PyValue | undefined): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return [];
}
