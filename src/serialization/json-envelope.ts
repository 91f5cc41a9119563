/**
 * kombu's JSON "typed envelope" (`{"__type__": marker, "__value__": value}`, kombu ≥ 5.3) and the
 * lossy plain-string forms kombu ≤ 5.2 wrote instead. The writer asks this module how to turn a
 * non-JSON value into JSON; the parser asks it to revive envelopes.
 */
import { DecodeError, EncodeError } from '../errors/errors';
import type { PyValue } from './py-values';
import { PyDate, PyDateTime, PyDecimal, PyTime, PyUUID } from './py-values';
import type { JsonDialect } from '../config/dialect';

/** `kombu-5.3`: `__type__` envelopes (kombu ≥ 5.3); `kombu-legacy`: plain strings (kombu ≤ 5.2). */
export type { JsonDialect };

const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);

/**
 * Python `datetime.isoformat()` of the aware-UTC datetime equal to a JS `Date`: microseconds are
 * six digits and omitted when zero, the offset is `+00:00`.
 */
export function dateToPyIso(d: Date): string {
  const t = d.getTime();
  const year = d.getUTCFullYear();
  // Python's datetime only spans years 1..9999.
  if (Number.isNaN(t) || year < 1 || year > 9999) {
    throw new EncodeError(`cannot encode Date outside Python's datetime range: ${String(d)}`);
  }
  const ms = d.getUTCMilliseconds();
  const frac = ms === 0 ? '' : `.${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}000`;
  return (
    `${String(year).padStart(4, '0')}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}` +
    `T${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}${frac}+00:00`
  );
}

const B64_ALPHABET = /[^A-Za-z0-9+/=]/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function bytesEnvelope(b: Uint8Array): PyValue {
  // kombu/utils/json.py, JSONEncoder.default: `bytes` if it decodes as UTF-8, else `base64`.
  let text: string;
  try {
    text = strictUtf8.decode(b);
  } catch {
    return { __type__: 'base64', __value__: Buffer.from(b).toString('base64') };
  }
  return { __type__: 'bytes', __value__: text };
}

/**
 * Turn a value JSON cannot carry into what kombu's `JSONEncoder.default` returns for it, or
 * `undefined` when the value is not one of the known Python types.
 */
export function encodeSpecial(v: object, dialect: JsonDialect): PyValue | undefined {
  if (dialect === 'kombu-5.3') {
    // kombu/utils/json.py, _register_default_types: datetime before date; key order type, value.
    if (v instanceof PyDateTime) return { __type__: 'datetime', __value__: v.iso };
    if (v instanceof Date) return { __type__: 'datetime', __value__: dateToPyIso(v) };
    if (v instanceof PyDate) return { __type__: 'date', __value__: v.iso };
    if (v instanceof PyTime) return { __type__: 'time', __value__: v.iso };
    if (v instanceof PyDecimal) return { __type__: 'decimal', __value__: v.value };
    // kombu ≥ 5.3.1 writes only `hex` (5.3.0 also wrote `version`).
    if (v instanceof PyUUID) return { __type__: 'uuid', __value__: { hex: v.hex } };
    if (v instanceof Uint8Array) return bytesEnvelope(v);
    return undefined;
  }
  // kombu 5.2.4 kombu/utils/json.py, JSONEncoder.default: dates widened to datetimes, a UTC
  // offset `+00:00` rewritten as `Z`, everything else `str()`; bytes are a TypeError.
  if (v instanceof PyDateTime) return zulu(v.iso);
  if (v instanceof Date) return zulu(dateToPyIso(v));
  if (v instanceof PyDate) return `${v.iso}T00:00:00`;
  if (v instanceof PyTime) return v.iso;
  if (v instanceof PyDecimal) return v.value;
  if (v instanceof PyUUID) return v.toString();
  if (v instanceof Uint8Array) {
    throw new EncodeError('Object of type bytes is not JSON serializable (kombu-legacy dialect)');
  }
  return undefined;
}

/** Short text of a decoded value for error messages (a string or number shown, else its kind). */
function show(v: PyValue): string {
  return typeof v === 'string' || typeof v === 'number' ? JSON.stringify(v) : typeof v;
}

function zulu(iso: string): string {
  return iso.endsWith('+00:00') ? `${iso.slice(0, -6)}Z` : iso;
}

function expectString(marker: string, value: PyValue): string {
  if (typeof value !== 'string') {
    throw new DecodeError(`__type__ ${marker}: __value__ must be a string, got ${typeof value}`);
  }
  return value;
}

function construct<T>(marker: string, make: () => T): T {
  try {
    return make();
  } catch (e) {
    if (e instanceof DecodeError) throw e;
    throw new DecodeError(`invalid __value__ for __type__ ${marker}`, { cause: e });
  }
}

/** `uuid.UUID(hex=…, version=…)`: a version rewrites the variant and version bits. */
function reviveUuid(value: PyValue): PyUUID {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DecodeError('__type__ uuid: __value__ must be an object with "hex"');
  }
  const fields = value as Record<string, PyValue>;
  for (const k of Object.keys(fields)) {
    if (k !== 'hex' && k !== 'version') {
      throw new DecodeError(`__type__ uuid: unsupported UUID() argument ${k}`);
    }
  }
  const rawHex = expectString('uuid', fields.hex ?? null)
    .replace('urn:', '')
    .replace('uuid:', '')
    .replace(/^\{+|\}+$/g, '');
  const uuid = construct('uuid', () => new PyUUID(rawHex));
  const version = fields.version;
  if (version === undefined || version === null) return uuid;
  // CPython 3.11 uuid.UUID.__init__ accepts versions 1..5 only.
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1 || version > 5) {
    throw new DecodeError(`__type__ uuid: illegal version number ${show(version)}`);
  }
  const h = uuid.hex;
  const variant = ((parseInt(h.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return new PyUUID(`${h.slice(0, 12)}${version}${h.slice(13, 16)}${variant}${h.slice(17)}`);
}

function reviveDate(s: string): PyDate {
  // datetime.fromisoformat(o).date(): a full datetime text is accepted and truncated.
  if (s.length > 10) return construct('date', () => new PyDate(new PyDateTime(s).iso.slice(0, 10)));
  return construct('date', () => new PyDate(s));
}

function reviveBase64(s: string): Uint8Array {
  // base64.b64decode(validate=False) drops non-alphabet characters, then insists on padding.
  const clean = s.replace(B64_ALPHABET, '');
  if (clean.length % 4 !== 0) throw new DecodeError('__type__ base64: Incorrect padding');
  return Buffer.from(clean, 'base64');
}

/**
 * kombu/utils/json.py, object_hook: revive one `{"__type__", "__value__"}` object. Unknown markers
 * raise, as kombu does (`ValueError("Unsupported type")` → `DecodeError`).
 */
export function reviveEnvelope(marker: PyValue, value: PyValue): PyValue {
  const name = typeof marker === 'string' ? marker : undefined;
  switch (name) {
    case 'datetime':
      return construct('datetime', () => new PyDateTime(expectString('datetime', value)));
    case 'date':
      return reviveDate(expectString('date', value));
    case 'time':
      return construct('time', () => new PyTime(expectString('time', value)));
    case 'decimal':
      return construct('decimal', () => new PyDecimal(expectString('decimal', value).trim()));
    case 'uuid':
      return reviveUuid(value);
    case 'bytes': {
      const s = expectString('bytes', value);
      if (LONE_SURROGATE.test(s)) throw new DecodeError('__type__ bytes: lone surrogate in text');
      return Buffer.from(s, 'utf8');
    }
    case 'base64':
      return reviveBase64(expectString('base64', value));
    case undefined:
    default:
      throw new DecodeError(`Unsupported type: ${show(marker)}`);
  }
}
