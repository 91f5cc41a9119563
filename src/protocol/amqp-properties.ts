import { EncodeError, ProtocolError } from '../errors/errors';
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
import type { MessageProperties, RawMessage } from './raw-message';
import { toEpochMicros } from './time';

/*
 * RawMessage ⇄ amqplib's plain shapes, without importing amqplib (layer 1 stays pure). Python's
 * side is `kombu/transport/pyamqp.py`, `Channel.prepare_message`, and py-amqp's field-table codec
 * (`amqp/serialization.py`): None → void, bool → t, int → I/l, float → d, str → S, list → A,
 * dict → F, bytes → x, datetime → T, Decimal → D.
 */

/** amqplib's typed-value trapdoor (`{'!': 'double', value: 1}`). */
export interface AmqpTypedValue {
  '!': 'double' | 'long' | 'timestamp' | 'decimal';
  value: number | bigint | { places: number; digits: number };
}

/** A value amqplib can put in a field table. */
export type AmqpFieldValue =
  | null
  | boolean
  | number
  | string
  | Buffer
  | AmqpTypedValue
  | AmqpFieldValue[]
  | { [key: string]: AmqpFieldValue };

/** The `options` argument of amqplib's `channel.publish`. */
export interface AmqpPublishOptions {
  contentType?: string;
  contentEncoding?: string;
  headers?: Record<string, AmqpFieldValue>;
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
}

/** `msg.properties` of a message amqplib delivers (absent properties are `undefined`). */
export interface AmqpMessageProperties {
  contentType?: string | undefined;
  contentEncoding?: string | undefined;
  headers?: Record<string, unknown> | undefined;
  deliveryMode?: number | undefined;
  priority?: number | undefined;
  correlationId?: string | undefined;
  replyTo?: string | undefined;
  expiration?: string | undefined;
  messageId?: string | undefined;
  timestamp?: number | undefined;
  type?: string | undefined;
  userId?: string | undefined;
  appId?: string | undefined;
  clusterId?: string | undefined;
}

/** kombu property name ↔ amqplib option name, in AMQP basic-properties order. */
type ScalarProp = Exclude<
  keyof AmqpMessageProperties,
  'headers' | 'contentType' | 'contentEncoding'
>;
const PROPS: readonly (readonly [string, ScalarProp])[] = [
  ['delivery_mode', 'deliveryMode'],
  ['priority', 'priority'],
  ['correlation_id', 'correlationId'],
  ['reply_to', 'replyTo'],
  ['expiration', 'expiration'],
  ['message_id', 'messageId'],
  ['timestamp', 'timestamp'],
  ['type', 'type'],
  ['user_id', 'userId'],
  ['app_id', 'appId'],
  ['cluster_id', 'clusterId'],
];

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** One PyValue as an amqplib field value; nulls stay `null` (void), never `undefined`. */
export function toAmqpField(v: PyValue, path = ''): AmqpFieldValue {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') {
    // amqplib would send an integral JS number as an int anyway; non-integral become doubles.
    return Number.isInteger(v) && !Number.isSafeInteger(v) ? { '!': 'long', value: BigInt(v) } : v;
  }
  if (typeof v === 'bigint') {
    if (v < INT64_MIN || v > INT64_MAX)
      throw new EncodeError(`int out of AMQP range at ${path || '/'}`);
    return { '!': 'long', value: v };
  }
  if (v instanceof PyFloat) return { '!': 'double', value: v.value };
  if (v instanceof Uint8Array) return Buffer.from(v);
  if (v instanceof PyDateTime || v instanceof Date) {
    return { '!': 'timestamp', value: Math.floor(toEpochMicros(v) / 1e6) };
  }
  if (v instanceof PyDecimal) {
    const m = /^(\d+)(?:\.(\d+))?$/.exec(v.value);
    if (!m)
      throw new EncodeError(`Decimal ${v.value} has no AMQP representation at ${path || '/'}`);
    const places = (m[2] ?? '').length;
    return { '!': 'decimal', value: { places, digits: Number(`${m[1] ?? ''}${m[2] ?? ''}`) } };
  }
  if (v instanceof PyUUID || v instanceof PyDate || v instanceof PyTime) {
    throw new EncodeError(`${v.constructor.name} cannot go in an AMQP table at ${path || '/'}`);
  }
  if (Array.isArray(v))
    return (v as readonly PyValue[]).map((x, i) => toAmqpField(x, `${path}/${String(i)}`));
  if (isPyDict(v)) return toAmqpTable(v, path);
  throw new EncodeError(`unsupported header value at ${path || '/'}`);
}

/** A headers dict as an amqplib table (keys kept in order, null values kept). */
export function toAmqpTable(
  h: Readonly<Record<string, PyValue>>,
  path = '',
): Record<string, AmqpFieldValue> {
  const out: Record<string, AmqpFieldValue> = {};
  for (const [k, v] of Object.entries(h)) out[k] = toAmqpField(v, `${path}/${k}`);
  return out;
}

/** amqplib `publish` options for a RawMessage (unknown kombu properties are not AMQP properties and are dropped, as on py-amqp). */
export function toAmqpPublishOptions(m: RawMessage): AmqpPublishOptions {
  const o: Record<string, unknown> = {
    contentType: m.contentType,
    contentEncoding: m.contentEncoding,
    headers: toAmqpTable(m.headers, '/headers'),
  };
  for (const [py, js] of PROPS) {
    const v = m.properties[py];
    if (v !== undefined && v !== null && js !== 'clusterId') o[js] = v;
  }
  return o;
}

/** One decoded amqplib field value back to a PyValue. */
export function fromAmqpField(v: unknown, path = ''): PyValue {
  if (v === null || v === undefined) return null;
  if (
    typeof v === 'boolean' ||
    typeof v === 'string' ||
    typeof v === 'number' ||
    typeof v === 'bigint'
  )
    return v;
  if (Buffer.isBuffer(v)) return new Uint8Array(v);
  if (Array.isArray(v)) return v.map((x, i) => fromAmqpField(x, `${path}/${String(i)}`));
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o['!'] === 'string') {
      const val = o.value;
      if (o['!'] === 'timestamp' && typeof val === 'number') {
        return new PyDateTime(new Date(val * 1000).toISOString().replace(/\.000Z$/, '+00:00'));
      }
      if (o['!'] === 'decimal' && typeof val === 'object' && val !== null) {
        const { places, digits } = val as { places: number; digits: number };
        const s = String(digits).padStart(places + 1, '0');
        return new PyDecimal(places ? `${s.slice(0, -places)}.${s.slice(-places)}` : s);
      }
      throw new ProtocolError(`unsupported AMQP field type ${o['!']}`, { path });
    }
    const out: Record<string, PyValue> = {};
    for (const [k, x] of Object.entries(o)) out[k] = fromAmqpField(x, `${path}/${k}`);
    return out;
  }
  throw new ProtocolError('unsupported AMQP field value', { path });
}

/** A delivered amqplib message (`{content, properties}`) as a RawMessage. */
export function fromAmqpMessage(msg: {
  content: Uint8Array;
  properties: AmqpMessageProperties;
}): RawMessage {
  const p = msg.properties;
  const headers = p.headers === undefined ? {} : fromAmqpField(p.headers, '/headers');
  if (!isPyDict(headers)) throw new ProtocolError('headers are not a table', { path: '/headers' });
  const properties: MessageProperties = {};
  for (const [py, js] of PROPS) {
    const v = p[js];
    if (v !== undefined) properties[py] = v;
  }
  return {
    body: new Uint8Array(msg.content.buffer, msg.content.byteOffset, msg.content.byteLength),
    contentType: p.contentType ?? '',
    contentEncoding: p.contentEncoding ?? '',
    headers,
    properties,
  };
}
