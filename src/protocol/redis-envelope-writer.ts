import type { DeliveryInfo, RawMessage } from './raw-message';
import { pyJsonDumps, pyJsonString, type JsonDialect } from '../serialization/python-json';
import type { PyValue } from '../serialization/py-values';

/**
 * A specialised writer for the publish path, producing exactly the text of
 * `encodeRedisEnvelope(message, deliveryInfo, tag, { jsonDialect })` (base64 body), i.e.
 * `kombu.utils.json.dumps` of the envelope `Channel.prepare_message` + `_inplace_augment_message`
 * build (`kombu/transport/virtual/base.py`). It writes the fixed envelope skeleton as literals
 * instead of building an envelope object and walking it again: only the headers and the
 * per-message property values go through the generic writer. Equality with the protocol encoder
 * is asserted by `redis-envelope-writer.test.ts`, and with kombu's own text for every fixture
 * message (`protocol-fixtures`, `redis.envelope`).
 */

/** Keys the virtual transport adds itself (the protocol encoder drops them from the input too). */
const TRANSPORT_KEYS = new Set(['delivery_info', 'body_encoding', 'delivery_tag', 'priority']);

/** Base64 text is plain ASCII without quotes or backslashes: no JSON escaping needed. */
function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Writes envelopes; keeps the `delivery_info` text of recent (exchange, routing key) pairs. */
export class RedisEnvelopeWriter {
  private readonly dialect: JsonDialect | undefined;
  private readonly deliveryInfoText = new Map<string, string>();

  constructor(dialect?: JsonDialect) {
    this.dialect = dialect;
  }

  private dumps(v: PyValue): string {
    return this.dialect === undefined ? pyJsonDumps(v) : pyJsonDumps(v, { dialect: this.dialect });
  }

  /** `"delivery_info": {"exchange": …, "routing_key": …}` in `_inplace_augment_message` order. */
  private deliveryInfo(di: DeliveryInfo): string {
    if (di.redelivered !== undefined) {
      return `"delivery_info": {"exchange": ${pyJsonString(di.exchange)}, "routing_key": ${pyJsonString(di.routing_key)}, "redelivered": ${di.redelivered ? 'true' : 'false'}}`;
    }
    const id = `${di.exchange}\0${di.routing_key}`;
    let text = this.deliveryInfoText.get(id);
    if (text === undefined) {
      text = `"delivery_info": {"exchange": ${pyJsonString(di.exchange)}, "routing_key": ${pyJsonString(di.routing_key)}}`;
      if (this.deliveryInfoText.size >= 256) this.deliveryInfoText.clear();
      this.deliveryInfoText.set(id, text);
    }
    return text;
  }

  /** The envelope text kombu's Redis transport LPUSHes for `message` with `deliveryTag`. */
  write(message: RawMessage, di: DeliveryInfo, deliveryTag: string): string {
    const source = message.properties;
    let props = '{';
    for (const k in source) {
      if (!Object.prototype.hasOwnProperty.call(source, k)) continue;
      const v = source[k];
      if (v === undefined || TRANSPORT_KEYS.has(k)) continue;
      props += `${pyJsonString(k)}: ${this.dumps(v)}, `;
    }
    // `priority or self.default_priority`: None and 0 both become the default 0.
    const pri = source.priority ?? di.priority;
    const priority = pri === undefined || pri === 0 ? '0' : this.dumps(pri);
    return (
      `{"body": "${base64(message.body)}", "content-encoding": ${pyJsonString(message.contentEncoding)}, ` +
      `"content-type": ${pyJsonString(message.contentType)}, "headers": ${this.dumps(message.headers)}, ` +
      `"properties": ${props}${this.deliveryInfo(di)}, "priority": ${priority}, ` +
      `"body_encoding": "base64", "delivery_tag": ${pyJsonString(deliveryTag)}}}`
    );
  }
}
