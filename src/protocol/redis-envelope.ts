import { ProtocolError } from '../errors/errors';
import { pyJsonDumps, pyJsonLoads, type JsonDialect } from '../serialization/python-json';
import { isPyDict, type PyValue } from '../serialization/py-values';
import type { DeliveryInfo, MessageProperties, RawMessage } from './raw-message';

/** How the envelope's `body` string encodes the body bytes (`virtual/base.py`, `Channel.body_encoding`). */
export type BodyEncoding = 'base64' | 'utf-8';

/** A decoded kombu virtual-transport envelope (Redis list item / PUBLISH payload). */
export interface RedisEnvelope {
  /** The message; `properties` no longer holds the transport keys (delivery_info, body_encoding, delivery_tag). */
  message: RawMessage;
  /** `properties.delivery_info`, with `priority` copied from `properties.priority`. */
  deliveryInfo: DeliveryInfo;
  deliveryTag: string;
  /** kombu writes `base64` unless the transport option `body_encoding` says otherwise. */
  bodyEncoding: BodyEncoding;
}

/** Keys the virtual transport adds to `properties`; they are not message properties proper. */
const TRANSPORT_KEYS = new Set(['delivery_info', 'body_encoding', 'delivery_tag']);

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * Build the envelope object with kombu's exact key order. `Channel.prepare_message` writes
 * `body, content-encoding, content-type, headers, properties`, where properties are the publish
 * properties (correlation_id, reply_to, …, delivery_mode, [expiration]) followed by
 * `setdefault('delivery_info', {})` and `setdefault('priority', priority or default_priority)`;
 * `_inplace_augment_message` then appends `body_encoding` and `delivery_tag` and fills
 * `delivery_info` with exchange then routing_key (`kombu/transport/virtual/base.py`; same order in
 * kombu 5.2.4, 5.6.2 and 5.7.0).
 */
export function buildRedisEnvelope(
  message: RawMessage,
  deliveryInfo: DeliveryInfo,
  deliveryTag: string,
  bodyEncoding: BodyEncoding = 'base64',
): Record<string, PyValue> {
  const props: Record<string, PyValue> = {};
  const source = message.properties;
  for (const k in source) {
    if (!Object.prototype.hasOwnProperty.call(source, k)) continue;
    const v = source[k];
    if (v === undefined || k === 'priority' || TRANSPORT_KEYS.has(k)) continue;
    props[k] = v;
  }
  const di: Record<string, PyValue> = {
    exchange: deliveryInfo.exchange,
    routing_key: deliveryInfo.routing_key,
  };
  if (deliveryInfo.redelivered !== undefined) di.redelivered = deliveryInfo.redelivered;
  props.delivery_info = di;
  // `priority or self.default_priority`: None and 0 both become the default 0.
  const priority = message.properties.priority ?? deliveryInfo.priority;
  props.priority = priority === undefined || priority === 0 ? 0 : priority;
  props.body_encoding = bodyEncoding;
  props.delivery_tag = deliveryTag;
  const body =
    bodyEncoding === 'base64' ? toBase64(message.body) : Buffer.from(message.body).toString('utf8');
  return {
    body,
    'content-encoding': message.contentEncoding,
    'content-type': message.contentType,
    headers: message.headers,
    properties: props,
  };
}

/**
 * Serialize a message the way kombu's Redis transport LPUSHes it: the envelope above dumped with
 * `kombu.utils.json.dumps` (`Channel._put`).
 */
export function encodeRedisEnvelope(
  message: RawMessage,
  deliveryInfo: DeliveryInfo,
  deliveryTag: string,
  opts: { jsonDialect?: JsonDialect; bodyEncoding?: BodyEncoding } = {},
): string {
  const env = buildRedisEnvelope(message, deliveryInfo, deliveryTag, opts.bodyEncoding);
  return pyJsonDumps(env, opts.jsonDialect === undefined ? {} : { dialect: opts.jsonDialect });
}

function fail(message: string, path: string, cause?: unknown): never {
  throw new ProtocolError(`malformed Redis envelope: ${message}`, {
    path,
    ...(cause === undefined ? {} : { cause }),
  });
}

function parseEnvelope(text: string): Record<string, PyValue> {
  let parsed: PyValue;
  try {
    parsed = pyJsonLoads(text);
  } catch (e) {
    fail('not JSON', '', e);
  }
  if (!isPyDict(parsed)) fail('not a JSON object', '');
  return parsed;
}

function decodeBody(body: PyValue | undefined, encoding: BodyEncoding): Uint8Array {
  // `Message.__init__` only decodes a truthy body; '' and null stay empty.
  if (body === undefined || body === null || body === '') return new Uint8Array(0);
  if (typeof body !== 'string') fail('body is not a string', '/body');
  if (encoding === 'utf-8') return new Uint8Array(Buffer.from(body, 'utf8'));
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 === 1) {
    fail('body is not base64', '/body');
  }
  // A view, not a copy: copying the decoded bytes costs more than decoding them.
  const bytes = Buffer.from(body, 'base64');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function optString(v: PyValue | undefined, path: string, dflt: string): string {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'string') fail('expected a string', path);
  return v;
}

/**
 * Parse an envelope read from Redis (`virtual/base.py`, `Message.__init__`): validates its shape
 * and base64-decodes the body. Throws {@link ProtocolError} naming the offending field.
 */
export function decodeRedisEnvelope(text: string): RedisEnvelope {
  const env = parseEnvelope(text);
  const props = env.properties;
  if (!isPyDict(props)) fail('properties is not an object', '/properties');
  const tag = props.delivery_tag;
  if (typeof tag !== 'string' && typeof tag !== 'number') {
    fail('delivery_tag missing', '/properties/delivery_tag');
  }
  const encRaw = props.body_encoding;
  let bodyEncoding: BodyEncoding;
  if (encRaw === 'base64') bodyEncoding = 'base64';
  else if (encRaw === undefined || encRaw === null) bodyEncoding = 'utf-8';
  else if (typeof encRaw === 'string' && encRaw.toLowerCase() === 'utf-8') bodyEncoding = 'utf-8';
  else fail(`unsupported body_encoding ${JSON.stringify(encRaw)}`, '/properties/body_encoding');
  const headers = env.headers ?? {};
  if (!isPyDict(headers)) fail('headers is not an object', '/headers');
  const di = props.delivery_info ?? {};
  if (!isPyDict(di)) fail('delivery_info is not an object', '/properties/delivery_info');
  const deliveryInfo: DeliveryInfo = {
    exchange: optString(di.exchange, '/properties/delivery_info/exchange', ''),
    routing_key: optString(di.routing_key, '/properties/delivery_info/routing_key', ''),
  };
  const priority = props.priority;
  if (typeof priority === 'number') deliveryInfo.priority = priority;
  if (typeof di.redelivered === 'boolean') deliveryInfo.redelivered = di.redelivered;
  const properties: MessageProperties = {};
  for (const k in props) {
    if (Object.prototype.hasOwnProperty.call(props, k) && !TRANSPORT_KEYS.has(k)) {
      properties[k] = props[k];
    }
  }
  return {
    message: {
      body: decodeBody(env.body, bodyEncoding),
      contentType: optString(env['content-type'], '/content-type', ''),
      contentEncoding: optString(env['content-encoding'], '/content-encoding', ''),
      // Freshly parsed, owned by nobody else: no copy needed.
      headers,
      properties,
    },
    deliveryInfo,
    deliveryTag: String(tag),
    bodyEncoding,
  };
}

/**
 * Flag an envelope as redelivered the way kombu does before pushing it back
 * (`kombu/transport/redis.py`, `Channel._do_restore_message`): `headers.redelivered = true`, then
 * `properties.delivery_info.redelivered = true`; a missing `headers`/`properties`/`delivery_info`
 * stops the marking silently (Python's `KeyError` is swallowed), everything else keeps its order.
 */
export function markRedelivered(text: string, opts: { jsonDialect?: JsonDialect } = {}): string {
  const env = parseEnvelope(text);
  const out: Record<string, PyValue> = { ...env };
  const headers = env.headers;
  if (isPyDict(headers)) {
    out.headers = { ...headers, redelivered: true };
    const props = env.properties;
    if (isPyDict(props) && isPyDict(props.delivery_info)) {
      out.properties = { ...props, delivery_info: { ...props.delivery_info, redelivered: true } };
    }
  }
  return pyJsonDumps(out, opts.jsonDialect === undefined ? {} : { dialect: opts.jsonDialect });
}

/**
 * The priority kombu reads back from an envelope when restoring it (kombu ≥5.4 pushes restored
 * messages to the priority list; kombu ≤5.3 pushed them to the bare queue name).
 */
export function envelopePriority(envelope: RedisEnvelope): number | undefined {
  return envelope.deliveryInfo.priority;
}
