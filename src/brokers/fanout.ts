import type { DeliveryInfo, RawMessage } from '../protocol/raw-message';
import type { Broker, Subscription, ExchangeType, QueueSpec } from './broker';

/** A broadcast message (pidbox command, event): no ack, at-most-once. */
export interface FanoutMessage {
  readonly message: RawMessage;
  readonly deliveryInfo: DeliveryInfo;
}

/** Options of {@link FanoutBroker.declareExchange}, kombu's `Exchange(durable, auto_delete)`. */
export interface ExchangeOptions {
  durable?: boolean;
  autoDelete?: boolean;
}

/**
 * What remote control and events need beyond task queues: exchange declarations (so that
 * publishing to `celeryev` works on AMQP, and so that Redis knows `celeryev` is fanout) and
 * `no_ack` consumption of a fanout-bound queue (`kombu/pidbox.py`, `Node.listen`:
 * `no_ack=True`). On Redis the queue becomes a PSUBSCRIBE (`kombu/transport/redis.py`,
 * `Channel._subscribe`).
 */
export interface FanoutBroker {
  declareExchange(name: string, type: ExchangeType, opts?: ExchangeOptions): Promise<void>;
  subscribeFanout(
    spec: QueueSpec,
    handler: (m: FanoutMessage) => void,
    onError?: (err: Error) => void,
  ): Promise<Subscription>;
}

/** Both shipped brokers implement {@link FanoutBroker}; test doubles may not. */
export function isFanoutBroker(b: Broker): b is Broker & FanoutBroker {
  const f = b as Partial<FanoutBroker>;
  return typeof f.declareExchange === 'function' && typeof f.subscribeFanout === 'function';
}
