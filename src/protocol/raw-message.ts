import type { PyValue } from '../serialization/py-values';

/**
 * Message properties as kombu names them (snake_case, as on the wire). On AMQP they are basic
 * properties; on Redis they sit in the envelope's `properties` object next to `delivery_info`.
 */
export interface MessageProperties {
  correlation_id?: string;
  reply_to?: string;
  delivery_mode?: number;
  priority?: number;
  expiration?: string;
  [key: string]: PyValue | undefined;
}

/**
 * A transport-neutral message: what kombu's `Producer.publish` hands to a transport and what a
 * consumer gets back before the body is deserialized. `body` is the bytes after serialization and
 * compression (compression is announced by `headers.compression`).
 */
export interface RawMessage {
  body: Uint8Array;
  contentType: string;
  contentEncoding: string;
  headers: Record<string, PyValue>;
  properties: MessageProperties;
}

/** Where a message was published to; `exchange: ''` is AMQP's default (anonymous) exchange. */
export interface DeliveryInfo {
  exchange: string;
  routing_key: string;
  priority?: number;
  redelivered?: boolean;
}
