import { BrokerConnectionError, BrokerError } from '../../errors/errors';

/**
 * A field table we cannot decode (py-amqp `amqp.exceptions.FrameSyntaxError`, raised by
 * `amqp/serialization.py`, `_read_item`, for an unknown tag). Such a delivery is rejected to the
 * dead-letter path; it never takes the connection down.
 */
export class FrameSyntaxError extends BrokerError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FrameSyntaxError';
  }
}

/**
 * The installed amqplib does not have the shape our field-table decoder patch was written for
 * (`lib/codec.js`, `decodeFields`), or the patch did not take effect. Refused loudly at start.
 */
export class AmqpCodecPatchError extends BrokerError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AmqpCodecPatchError';
  }
}

/**
 * A channel was closed by the broker (kombu `ChannelError`, e.g. 406 `consumer_timeout`,
 * 404 on a missing queue); the connection survives.
 */
export class ChannelError extends BrokerError {
  constructor(message: string, options?: ErrorOptions & { replyCode?: number }) {
    super(message, options);
    this.name = 'ChannelError';
  }
}

/**
 * Reconnecting stopped: `broker_connection_retry` is off or `broker_connection_max_retries`
 * attempts failed (`celery/worker/consumer/consumer.py`, `on_connection_error_before_connected`).
 */
export class ConnectionGaveUpError extends BrokerConnectionError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConnectionGaveUpError';
  }
}
