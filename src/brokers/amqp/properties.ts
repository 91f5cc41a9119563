import { EncodeError } from '../../errors/errors';
import type { MessageProperties, RawMessage } from '../../protocol/raw-message';
import {
  PyDate,
  PyDateTime,
  PyDecimal,
  PyFloat,
  PyTime,
  PyUUID,
  type PyValue,
} from '../../serialization/py-values';
import { FrameSyntaxError } from './errors';
import { undecodableReason } from './field-codec';

/**
 * Pure mapping between our {@link RawMessage} and amqplib's publish options / received
 * properties, matching what py-amqp puts on the wire (`kombu/transport/pyamqp.py`,
 * `Channel.prepare_message`; `amqp/basic_message.py`, `Message.PROPERTIES`;
 * `amqp/serialization.py`, `_write_item`). No amqplib import: the shapes are structural.
 */

/**
 * amqplib's explicit-type escape hatch (`lib/codec.js`, `encodeFieldValue`). Every value we hand
 * to amqplib is wrapped, so its number guessing never picks `b`/`s` (short ints), which py-amqp
 * before 5.4 read as unsigned byte / short *string* and would corrupt (celery/kombu#2354).
 */
export interface TypedField {
  '!': 'object' | 'string' | 'boolean' | 'int' | 'long' | 'double' | 'timestamp' | 'decimal';
  value: unknown;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function fail(path: string, what: string): never {
  throw new EncodeError(`cannot encode ${what} in an AMQP field table (at ${path || '/'})`);
}

function intField(n: number | bigint, path: string): TypedField {
  if (typeof n === 'number' && n >= INT32_MIN && n <= INT32_MAX) return { '!': 'int', value: n };
  const big = BigInt(n);
  if (big < INT64_MIN || big > INT64_MAX) fail(path, `integer ${String(n)} (beyond int64)`);
  // py-amqp writes 'L' here; amqplib only has 'l'. Both are signed 64-bit in py-amqp ≥5.4 and
  // in RabbitMQ; only negative values read differently on py-amqp <5.4 (unsigned 'l').
  return { '!': 'long', value: big };
}

function decimalField(d: PyDecimal, path: string): TypedField {
  // py-amqp `_write_item`: 'D' = places (octet) + signed int32 unscaled value. amqplib can only
  // write an unsigned int32, so negative decimals are refused rather than mangled.
  const m = /^(\d*)(?:\.(\d*))?$/.exec(d.value);
  if (!m) fail(path, `Decimal ${d.value}`);
  const frac = m[2] ?? '';
  const digits = Number(`${m[1] ?? ''}${frac}` || '0');
  if (digits > 0xffffffff || frac.length > 255) fail(path, `Decimal ${d.value}`);
  return { '!': 'decimal', value: { places: frac.length, digits } };
}

/** Encode one value like py-amqp `_write_item`, as an amqplib typed field. */
export function toFieldValue(v: PyValue, path = ''): TypedField {
  if (v === null) return { '!': 'object', value: null }; // 'V' void, kept (amqplib drops undefined)
  if (typeof v === 'string') return { '!': 'string', value: v };
  if (typeof v === 'boolean') return { '!': 'boolean', value: v };
  if (typeof v === 'bigint') return intField(v, path);
  if (typeof v === 'number') {
    return Number.isInteger(v) && !Object.is(v, -0)
      ? intField(v, path)
      : { '!': 'double', value: v };
  }
  if (v instanceof PyFloat) return { '!': 'double', value: v.value };
  if (v instanceof Uint8Array) {
    return { '!': 'object', value: Buffer.from(v.buffer, v.byteOffset, v.byteLength) };
  }
  if (v instanceof PyDateTime || v instanceof Date) {
    // py-amqp: `calendar.timegm(v.utctimetuple())` → whole seconds; naive means UTC.
    const ms = v instanceof Date ? v.getTime() : v.toDate().getTime();
    return { '!': 'timestamp', value: Math.floor(ms / 1000) };
  }
  if (v instanceof PyDecimal) return decimalField(v, path);
  if (v instanceof PyDate || v instanceof PyTime || v instanceof PyUUID) {
    fail(path, v.constructor.name); // py-amqp raises ValueError for these too
  }
  if (Array.isArray(v)) {
    return {
      '!': 'object',
      value: (v as readonly PyValue[]).map((x, i) => toFieldValue(x, `${path}/${String(i)}`)),
    };
  }
  return { '!': 'object', value: toFieldTable(v as Record<string, PyValue>, path) };
}

/** Encode a headers / arguments table; keys longer than 255 bytes are refused (shortstr). */
export function toFieldTable(
  table: Readonly<Record<string, PyValue>>,
  path = '',
): Record<string, TypedField> {
  const out: Record<string, TypedField> = {};
  for (const [k, v] of Object.entries(table)) {
    if (Buffer.byteLength(k, 'utf8') > 255)
      fail(path, `key longer than 255 bytes: ${k.slice(0, 20)}…`);
    out[k] = toFieldValue(v, `${path}/${k}`);
  }
  return out;
}

/** amqplib `Options.Publish`, the subset we set (structural copy, see file comment). */
export interface AmqpPublishOptions {
  contentType?: string;
  contentEncoding?: string;
  headers: Record<string, TypedField>;
  deliveryMode?: number;
  priority?: number;
  correlationId?: string;
  replyTo?: string;
  expiration?: string;
  messageId?: string;
  timestamp?: number;
  type?: string;
  userId?: string;
  appId?: string;
  mandatory?: boolean;
}

const STRING_PROPS = [
  ['correlation_id', 'correlationId'],
  ['reply_to', 'replyTo'],
  ['expiration', 'expiration'],
  ['message_id', 'messageId'],
  ['type', 'type'],
  ['user_id', 'userId'],
  ['app_id', 'appId'],
] as const;

/**
 * Publish options for a message. Properties absent or `None` are omitted, as py-amqp skips
 * `None` properties; `priority` is sent only when given (`prepare_message(priority=None)`).
 */
export function toPublishOptions(message: RawMessage): AmqpPublishOptions {
  const p = message.properties;
  const opts: AmqpPublishOptions = {
    contentType: message.contentType,
    contentEncoding: message.contentEncoding,
    headers: toFieldTable(message.headers, '/headers'),
  };
  for (const [wire, js] of STRING_PROPS) {
    const v = p[wire];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') fail(`/properties/${wire}`, `non-string ${wire}`);
    opts[js] = v;
  }
  const dm = p.delivery_mode;
  if (typeof dm === 'number') opts.deliveryMode = dm;
  const pri = p.priority;
  if (typeof pri === 'number') opts.priority = pri;
  const ts = p.timestamp;
  if (typeof ts === 'number') opts.timestamp = Math.trunc(ts);
  return opts;
}

/** amqplib `MessageProperties` as received (structural subset). */
export interface AmqpReceivedProperties {
  contentType?: unknown;
  contentEncoding?: unknown;
  headers?: unknown;
  deliveryMode?: unknown;
  priority?: unknown;
  correlationId?: unknown;
  replyTo?: unknown;
  expiration?: unknown;
  messageId?: unknown;
  timestamp?: unknown;
  type?: unknown;
  userId?: unknown;
  appId?: unknown;
}

function isTagged(v: object): v is { '!': string; value: unknown } {
  return Object.hasOwn(v, '!') && Object.hasOwn(v, 'value');
}

/**
 * Decode what our field-table decoder (`./field-codec.ts`, patched into amqplib) produced into
 * Python values as py-amqp `_read_item` would: 'T' → naive UTC datetime, 'D' → Decimal,
 * 'x' → bytes, integral 'd'/'f' → float ({@link PyFloat}), 64-bit ints beyond 2^53 → bigint.
 * Throws {@link FrameSyntaxError} for a table the decoder could not read, or a timestamp
 * Python's `datetime` cannot hold either.
 */
export function fromFieldValue(v: unknown): PyValue {
  if (v === null || typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number')
    return v;
  if (typeof v === 'bigint') return v;
  if (Buffer.isBuffer(v)) return new Uint8Array(v);
  if (Array.isArray(v)) return v.map(fromFieldValue);
  if (typeof v === 'object') {
    const bad = undecodableReason(v);
    if (bad !== undefined) throw new FrameSyntaxError(`undecodable field table: ${bad}`);
    if (isTagged(v)) {
      if (v['!'] === 'timestamp') return timestampValue(v.value);
      if (v['!'] === 'decimal') {
        const d = v.value as { places: number; digits: number };
        return new PyDecimal(decimalText(d.digits, d.places));
      }
      if (v['!'] === 'double' && typeof v.value === 'number') return new PyFloat(v.value);
    }
    const out: Record<string, PyValue> = {};
    for (const [k, x] of Object.entries(v)) out[k] = fromFieldValue(x);
    return out;
  }
  return null;
}

/** py-amqp: `datetime.fromtimestamp(val, tz=utc).replace(tzinfo=None)` (naive, whole seconds). */
function timestampValue(raw: unknown): PyDateTime {
  const secs = typeof raw === 'bigint' ? Number(raw) : typeof raw === 'number' ? raw : NaN;
  const d = new Date(secs * 1000);
  // Python's datetime ends at year 9999; py-amqp raises there too.
  if (Number.isNaN(d.getTime()) || d.getUTCFullYear() > 9999) {
    throw new FrameSyntaxError(`timestamp out of range: ${String(raw)}`);
  }
  return new PyDateTime(d.toISOString().slice(0, 19));
}

/**
 * `str(Decimal(n) / Decimal(10 ** d))` (py-amqp's 'D'): the exact quotient at the ideal exponent
 * 0 (trailing zeros cut while the exponent is negative), printed as CPython's `Decimal.__str__`
 * does, scientific when the adjusted exponent is below -6 (`1E-9`).
 */
export function decimalText(digits: number, places: number): string {
  if (digits === 0) return '0';
  const sign = digits < 0 ? '-' : '';
  let coeff = String(Math.abs(digits));
  let exp = -places;
  while (exp < 0 && coeff.length > 1 && coeff.endsWith('0')) {
    coeff = coeff.slice(0, -1);
    exp++;
  }
  if (exp === 0) return sign + coeff;
  const adjusted = exp + coeff.length - 1;
  if (adjusted >= -6) {
    const point = coeff.length + exp;
    return point > 0
      ? `${sign}${coeff.slice(0, point)}.${coeff.slice(point)}`
      : `${sign}0.${'0'.repeat(-point)}${coeff}`;
  }
  const tail = coeff.length > 1 ? `.${coeff.slice(1)}` : '';
  return `${sign}${coeff[0] ?? ''}${tail}E${String(adjusted)}`;
}

/** Build our message from an amqplib delivery's content and properties. */
export function fromAmqpMessage(content: Uint8Array, props: AmqpReceivedProperties): RawMessage {
  const properties: MessageProperties = {};
  const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);
  for (const [wire, js] of STRING_PROPS) {
    const v = str(props[js]);
    if (v !== undefined) properties[wire] = v;
  }
  if (typeof props.deliveryMode === 'number') properties.delivery_mode = props.deliveryMode;
  if (typeof props.priority === 'number') properties.priority = props.priority;
  if (typeof props.timestamp === 'number') properties.timestamp = props.timestamp;
  const headers =
    props.headers === undefined || props.headers === null ? {} : fromFieldValue(props.headers);
  return {
    body: content,
    contentType: str(props.contentType) ?? '',
    contentEncoding: str(props.contentEncoding) ?? '',
    headers:
      typeof headers === 'object' && headers !== null && !Array.isArray(headers)
        ? (headers as Record<string, PyValue>)
        : {},
    properties,
  };
}
