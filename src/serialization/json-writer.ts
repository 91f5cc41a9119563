/**
 * A JSON writer whose output is byte-identical to CPython's `json.dumps(obj, cls=JSONEncoder)` as
 * kombu calls it (`kombu/utils/json.py, dumps`): separators `", "`/`": "`, `ensure_ascii=True`,
 * `allow_nan=True`, float `repr`, arbitrary-precision ints.
 */
import { EncodeError } from '../errors/errors';
import type { JsonDialect } from './json-envelope';
import { encodeSpecial } from './json-envelope';
import { pyFloatRepr } from './py-float';
import type { PyValue } from './py-values';
import { PyFloat } from './py-values';

// CPython raises RecursionError long before this; we stop cycles without tracking identities.
const MAX_DEPTH = 1000;

// Anything ensure_ascii must escape: `"`, `\`, C0 controls and every non-printable-ASCII code
// unit (CPython Lib/json/encoder.py, ESCAPE_ASCII = r'([\\"]|[^\ -~])').
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u007f-\uffff]/;

const HEX = '0123456789abcdef';
const SHORT_ESCAPES: Readonly<Record<number, string>> = {
  0x22: '\\"',
  0x5c: '\\\\',
  0x0a: '\\n',
  0x0d: '\\r',
  0x09: '\\t',
  0x08: '\\b',
  0x0c: '\\f',
};

/** `\uXXXX` in lowercase hex, as CPython's `py_encode_basestring_ascii`. */
function uEscape(c: number): string {
  return `\\u${HEX.charAt((c >> 12) & 15)}${HEX.charAt((c >> 8) & 15)}${HEX.charAt((c >> 4) & 15)}${HEX.charAt(c & 15)}`;
}

/** A JSON string literal as Python writes it (astral characters come out as surrogate pairs). */
export function pyJsonString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  let out = '"';
  let last = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c) continue;
    if (i > last) out += s.slice(last, i);
    out += SHORT_ESCAPES[c] ?? uEscape(c);
    last = i + 1;
  }
  if (last < n) out += s.slice(last);
  return `${out}"`;
}

function floatToken(x: number): string {
  if (x !== x) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  return pyFloatRepr(x);
}

function numberToken(x: number): string {
  if (Number.isInteger(x)) {
    // An integral number is a Python int; beyond 1e21 JS would switch to exponent notation.
    return Math.abs(x) < 1e21 ? String(x) : BigInt(x).toString();
  }
  return floatToken(x);
}

function describe(v: unknown): string {
  if (typeof v !== 'object' || v === null) return typeof v;
  const ctor = (v as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === 'string' ? ctor.name : 'object';
}

// Dict keys come from a small vocabulary (header and property names, kwarg names): their
// `"key": ` text is kept, bounded, instead of being escaped again for every message.
const KEY_CACHE = new Map<string, string>();
const KEY_CACHE_MAX = 1024;
const KEY_CACHE_MAX_LENGTH = 64;

function keyPrefix(key: string): string {
  let r = KEY_CACHE.get(key);
  if (r === undefined) {
    r = `${pyJsonString(key)}: `;
    if (key.length <= KEY_CACHE_MAX_LENGTH) {
      if (KEY_CACHE.size >= KEY_CACHE_MAX) KEY_CACHE.clear();
      KEY_CACHE.set(key, r);
    }
  }
  return r;
}

function writeObject(v: object, dialect: JsonDialect, depth: number): string {
  if (Array.isArray(v)) {
    const arr = v as readonly PyValue[];
    const n = arr.length;
    if (n === 0) return '[]';
    let out = `[${writeValue(arr[0] as PyValue, dialect, depth)}`;
    for (let i = 1; i < n; i++) out += `, ${writeValue(arr[i] as PyValue, dialect, depth)}`;
    return `${out}]`;
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto === Object.prototype || proto === null) {
    const dict = v as Readonly<Record<string, PyValue>>;
    let out = '{';
    let first = true;
    for (const key in dict) {
      if (!Object.prototype.hasOwnProperty.call(dict, key)) continue;
      const item = dict[key] as PyValue;
      out += `${first ? '' : ', '}${keyPrefix(key)}${writeValue(item, dialect, depth)}`;
      first = false;
    }
    return `${out}}`;
  }
  if (v instanceof PyFloat) return floatToken(v.value);
  const replacement = encodeSpecial(v, dialect);
  if (replacement !== undefined) return writeValue(replacement, dialect, depth);
  throw new EncodeError(`Object of type ${describe(v)} is not JSON serializable`);
}

function writeValue(v: PyValue, dialect: JsonDialect, depth: number): string {
  switch (typeof v) {
    case 'string':
      return pyJsonString(v);
    case 'number':
      return numberToken(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return v.toString();
    case 'object':
      if (v === null) return 'null';
      if (depth >= MAX_DEPTH) {
        throw new EncodeError('Circular reference detected or value nested too deeply');
      }
      return writeObject(v, dialect, depth + 1);
    case 'undefined':
    case 'function':
    case 'symbol':
      throw new EncodeError(`Object of type ${typeof v} is not JSON serializable`);
  }
}

/** Serialize a value exactly as kombu's `json.dumps(obj, cls=JSONEncoder)` would. */
export function writePyJson(value: PyValue, dialect: JsonDialect): string {
  return writeValue(value, dialect, 0);
}
