import type { Broker, ExchangeType } from './broker';
import type { ExchangeOptions } from './fanout';

/**
 * Bindings beyond "one queue on one exchange": what Celery's native delayed delivery needs
 * (`kombu/transport/native_delayed_delivery.py`: `Queue.bind_to`, `Exchange.bind_to`, i.e.
 * `queue_bind` and RabbitMQ's exchange-to-exchange `exchange_bind`). AMQP only.
 */
export interface TopologyBroker {
  declareExchange(name: string, type: ExchangeType, opts?: ExchangeOptions): Promise<void>;
  /** `queue_bind(queue, exchange, routing_key)`. */
  bindQueue(queue: string, exchange: string, routingKey: string): Promise<void>;
  /** `exchange_bind(destination, source, routing_key)`. */
  bindExchange(destination: string, source: string, routingKey: string): Promise<void>;
}

/** The AMQP broker implements {@link TopologyBroker}; Redis and SQS do not. */
export function isTopologyBroker(b: Broker): b is Broker & TopologyBroker {
  const t = b as Partial<TopologyBroker>;
  return typeof t.bindQueue === 'function' && typeof t.bindExchange === 'function';
}
