import { pyFloatRepr } from '../serialization/py-float';
import {
  PyDate,
  PyDateTime,
  PyDecimal,
  PyFloat,
  PyTime,
  PyUUID,
  isPyDict,
  type PyValue,
} from '../serialization/py-values';

/** Marks an array to be shown as a Python tuple (`(1,)`, `()`) instead of a list. */
export class PyTupleView {
  constructor(readonly items: readonly ReprValue[]) {}
}

/** Values {@link pyRepr} accepts: any PyValue, or a tuple view around an array. */
export type ReprValue = PyValue | PyTupleView;

// CPython `Py_UNICODE_ISPRINTABLE`: everything except categories Cc, Cf, Cs, Co, Cn, Zl, Zp and
// Zs other than the ASCII space (`Objects/unicodeobject.c`, `unicode_repr`).
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/**
 * CPython `repr(str)`: single quotes unless the text contains `'` and no `"`; `\\`, the quote,
 * `\t` `\n` `\r` escaped; other non-printables as `\xNN`, `\uNNNN` or `\UNNNNNNNN`.
 */
export function reprStr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${hex(cp, 2)}`;
    else if (cp < 0x7f) out += ch;
    else if (NON_PRINTABLE.test(ch) || (cp >= 0xd800 && cp <= 0xdfff)) {
      out +=
        cp <= 0xff ? `\\x${hex(cp, 2)}` : cp <= 0xffff ? `\\u${hex(cp, 4)}` : `\\U${hex(cp, 8)}`;
    } else out += ch;
  }
  return out + quote;
}

/** CPython `repr(bytes)`: `b'...'` with the same quote rule, non-ASCII-printables as `\xNN`. */
export function reprBytes(b: Uint8Array): string {
  let hasSingle = false;
  let hasDouble = false;
  for (const c of b) {
    if (c === 0x27) hasSingle = true;
    if (c === 0x22) hasDouble = true;
  }
  const quote = hasSingle && !hasDouble ? '"' : "'";
  let out = `b${quote}`;
  for (const c of b) {
    const ch = String.fromCharCode(c);
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (c === 0x09) out += '\\t';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c < 0x20 || c >= 0x7f) out += `\\x${hex(c, 2)}`;
    else out += ch;
  }
  return out + quote;
}

/** `repr(int)` / `repr(float)` for the JS number model (integral numbers are Python ints). */
export function reprNumber(x: number | bigint | PyFloat): string {
  if (x instanceof PyFloat) return pyFloatRepr(x.value);
  if (typeof x === 'bigint') return x.toString();
  if (Number.isInteger(x)) {
    // String() is exact below 1e21 (and prints -0 as `0`); beyond, JS switches to exponents.
    return Math.abs(x) < 1e21 ? String(x) : BigInt(x).toString();
  }
  return pyFloatRepr(x);
}

function trimmedTimeParts(h: number, mi: number, s: number, us: number): number[] {
  const parts = [h, mi, s, us];
  if (parts[3] === 0) parts.pop();
  if (parts.length === 3 && parts[2] === 0) parts.pop();
  return parts;
}

/** `repr(timedelta)` as Python ≥3.7 prints it (`datetime.timedelta(days=-1, seconds=82800)`). */
function reprTimedelta(totalSeconds: number): string {
  const days = Math.floor(totalSeconds / 86400);
  const seconds = totalSeconds - days * 86400;
  const parts: string[] = [];
  if (days) parts.push(`days=${String(days)}`);
  if (seconds) parts.push(`seconds=${String(seconds)}`);
  return `datetime.timedelta(${parts.length ? parts.join(', ') : '0'})`;
}

/** `repr(tzinfo)` of a fixed offset (`±HH:MM[:SS]`, `Z`): `datetime.timezone.utc` for zero. */
function reprTz(offset: string): string {
  if (offset === 'Z' || /^[+-]00:?00(:?00)?$/.test(offset)) return 'datetime.timezone.utc';
  const sign = offset.startsWith('-') ? -1 : 1;
  const d = offset.slice(1).replace(/:/g, '');
  const secs =
    Number(d.slice(0, 2)) * 3600 + Number(d.slice(2, 4) || '0') * 60 + Number(d.slice(4, 6) || '0');
  return `datetime.timezone(${reprTimedelta(sign * secs)})`;
}

const DT_RE =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2}(?::?\d{2})?)?/;

/** `repr(datetime)`: `datetime.datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.timezone.utc)`. */
export function reprDateTime(v: PyDateTime | Date): string {
  const iso = v instanceof Date ? v.toISOString() : v.iso;
  const m = DT_RE.exec(iso);
  if (!m) return reprStr(iso);
  const [, y, mo, d, h, mi, s = '0', frac = '', off] = m;
  const us = Number(frac.padEnd(6, '0').slice(0, 6));
  const parts = [
    Number(y),
    Number(mo),
    Number(d),
    ...trimmedTimeParts(Number(h), Number(mi), Number(s), us),
  ];
  const tz = off === undefined ? '' : `, tzinfo=${reprTz(off)}`;
  return `datetime.datetime(${parts.join(', ')}${tz})`;
}

function reprTime(v: PyTime): string {
  const m = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?([+-]\d{2}:\d{2})?$/.exec(v.iso);
  if (!m) return reprStr(v.iso);
  const [, h, mi, s = '0', frac = '', off] = m;
  const parts = trimmedTimeParts(Number(h), Number(mi), Number(s), Number(frac.padEnd(6, '0')));
  const tz = off === undefined ? '' : `, tzinfo=${reprTz(off)}`;
  return `datetime.time(${parts.join(', ')}${tz})`;
}

/**
 * `repr()` of a scalar (anything that is not a list, tuple or dict), or `undefined` for
 * containers. Shared by {@link pyRepr} and `saferepr`.
 */
export function reprScalar(v: ReprValue): string | undefined {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number' || typeof v === 'bigint' || v instanceof PyFloat) return reprNumber(v);
  if (typeof v === 'string') return reprStr(v);
  if (v instanceof Uint8Array) return reprBytes(v);
  if (v instanceof PyDateTime || v instanceof Date) return reprDateTime(v);
  if (v instanceof PyDate) {
    const [y = '', m = '', d = ''] = v.iso.split('-');
    return `datetime.date(${String(Number(y))}, ${String(Number(m))}, ${String(Number(d))})`;
  }
  if (v instanceof PyTime) return reprTime(v);
  if (v instanceof PyDecimal) return `Decimal('${v.value}')`;
  if (v instanceof PyUUID) return `UUID('${v.toString()}')`;
  return undefined;
}

/** Python's builtin `repr()` for the PyValue model; top-level or nested {@link PyTupleView}s print as tuples. */
export function pyRepr(v: ReprValue): string {
  const scalar = reprScalar(v);
  if (scalar !== undefined) return scalar;
  if (v instanceof PyTupleView) {
    const inner = v.items.map(pyRepr);
    return inner.length === 1 ? `(${inner[0] ?? ''},)` : `(${inner.join(', ')})`;
  }
  if (Array.isArray(v)) return `[${(v as readonly PyValue[]).map(pyRepr).join(', ')}]`;
  if (isPyDict(v)) {
    return `{${Object.entries(v)
      .map(([k, x]) => `${reprStr(k)}: ${pyRepr(x)}`)
      .join(', ')}}`;
  }
  throw new TypeError('value has no Python repr');
}
