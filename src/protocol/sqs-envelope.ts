import { ProtocolError } from '../errors/errors';
import { pyJsonLoads, type JsonDialect } from '../serialization/python-json';
import { isPyDict, type PyValue } from '../serialization/py-values';
import type { DeliveryInfo, MessageProperties, RawMessage } from './raw-message';
import { encodeRedisEnvelope } from './redis-envelope';

/**
 * The SQS message body kombu's SQS transport sends and reads. SQS is a kombu *virtual* transport,
 * so the body is the same envelope the Redis transport LPUSHes (`Channel.prepare_message` +
 * `_inplace_augment_message`, `kombu/transport/virtual/base.py`), dumped with
 * `kombu.utils.json.dumps` and then base64-encoded once more as a whole
 * (`kombu/transport/SQS`, `Channel._put`: `AsyncMessage().encode(dumps(message))` when the
 * transport option `sqs_base64_encoding` is true, its default in kombu 5.2 and 5.7;
 * `kombu/asynchronous/aws/sqs/message.py`, `AsyncMessage.encode` = `b64encode(str_to_bytes(v))`).
 * Pure.
 */

export interface SqsEncodeOptions {
  jsonDialect?: JsonDialect;
  /** Transport option `sqs_base64_encoding` (default true). */
  base64?: boolean;
}

/** The `MessageBody` kombu sends for `message` published to (exchange, routing key). */
export function encodeSqsBody(
  message: RawMessage,
  deliveryInfo: DeliveryInfo,
  deliveryTag: string,
  opts: SqsEncodeOptions = {},
): string {
  const json = encodeRedisEnvelope(
    message,
    deliveryInfo,
    deliveryTag,
    opts.jsonDialect === undefined ? {} : { jsonDialect: opts.jsonDialect },
  );
  return opts.base64 === false ? json : Buffer.from(json, 'utf8').toString('base64');
}

/** Canonical base64 (`Channel.B64_REGEX`, kombu 5.7). */
const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * `Channel._optional_b64_decode` (kombu 5.7; 5.2 does the same with a re-encode check): the body
 * is base64-decoded only if it is canonical base64 of UTF-8 text, otherwise used as it is, so
 * plain-JSON bodies (`sqs_base64_encoding=False`, or other producers) are read too.
 */
export function optionalB64Decode(raw: string): string {
  const candidate = raw.trim();
  if (!B64.test(candidate)) return raw;
  const decoded = Buffer.from(candidate, 'base64');
  if (decoded.toString('base64').replace(/=+$/, '') !== candidate.replace(/=+$/, '')) return raw;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(decoded);
  } catch {
    return raw;
  }
}

/** What a received SQS body turned out to be. */
export type SqsBody =
  /** A kombu envelope (`properties` present): decode it as the virtual transport does. */
  | { readonly kind: 'envelope'; readonly message: RawMessage; readonly deliveryInfo: DeliveryInfo }
  /**
   * Not a kombu envelope: kombu wraps the text as `{'body': text, 'properties':
   * {'delivery_info': {}}}` (`Channel._envelope_payload`), a message without content type that
   * Celery's worker reports as an unknown message. `message` is that wrapping.
   */
  | { readonly kind: 'foreign'; readonly message: RawMessage; readonly text: string };

function fail(message: string, path: string, cause?: unknown): never {
  throw new ProtocolError(`malformed SQS message body: ${message}`, {
    path,
    ...(cause === undefined ? {} : { cause }),
  });
}

function str(v: PyValue | undefined, path: string, dflt: string): string {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'string') fail('expected a string', path);
  return v;
}

function foreign(text: string): SqsBody {
  const message: RawMessage = {
    body: new Uint8Array(Buffer.from(text, 'utf8')),
    contentType: '',
    contentEncoding: '',
    headers: {},
    properties: {},
  };
  return { kind: 'foreign', message, text };
}

/** Transport keys of `properties`; the delivery tag is SQS's receipt handle on this side. */
const TRANSPORT_KEYS = new Set(['delivery_info', 'body_encoding', 'delivery_tag']);

/**
 * Decode a received `Body` (`Channel._message_to_python`): optional base64, JSON, and, for a
 * kombu envelope, its `body` per `body_encoding`. Throws {@link ProtocolError} naming the field for
 * an envelope whose fields have the wrong types.
 */
export function decodeSqsBody(raw: string): SqsBody {
  const text = optionalB64Decode(raw);
  let parsed: PyValue;
  try {
    parsed = pyJsonLoads(text);
  } catch {
    // `_prepare_json_payload`: undecodable JSON becomes {} and is wrapped.
    return foreign(text);
  }
  if (!isPyDict(parsed) || !('properties' in parsed)) return foreign(text);
  const props = parsed.properties;
  if (!isPyDict(props)) fail('properties is not an object', '/properties');
  const headers = parsed.headers ?? {};
  if (!isPyDict(headers)) fail('headers is not an object', '/headers');
  const di = props.delivery_info ?? {};
  if (!isPyDict(di)) fail('delivery_info is not an object', '/properties/delivery_info');
  const deliveryInfo: DeliveryInfo = {
    exchange: str(di.exchange, '/properties/delivery_info/exchange', ''),
    routing_key: str(di.routing_key, '/properties/delivery_info/routing_key', ''),
  };
  if (typeof props.priority === 'number') deliveryInfo.priority = props.priority;
  const enc = props.body_encoding;
  const body = parsed.body;
  let bytes: Uint8Array;
  if (body === undefined || body === null || body === '') bytes = new Uint8Array(0);
  else if (typeof body !== 'string') fail('body is not a string', '/body');
  else if (enc === 'base64') {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 === 1) {
      fail('body is not base64', '/body');
    }
    bytes = new Uint8Array(Buffer.from(body, 'base64'));
  } else if (
    enc === undefined ||
    enc === null ||
    (typeof enc === 'string' && /^utf-?8$/i.test(enc))
  ) {
    bytes = new Uint8Array(Buffer.from(body, 'utf8'));
  } else fail(`unsupported body_encoding ${JSON.stringify(enc)}`, '/properties/body_encoding');
  const properties: MessageProperties = {};
  for (const k in props) {
    if (Object.prototype.hasOwnProperty.call(props, k) && !TRANSPORT_KEYS.has(k)) {
      properties[k] = props[k];
    }
  }
  return {
    kind: 'envelope',
    message: {
      body: bytes,
      contentType: str(parsed['content-type'], '/content-type', ''),
      contentEncoding: str(parsed['content-encoding'], '/content-encoding', ''),
      headers,
      properties,
    },
    deliveryInfo,
  };
}
