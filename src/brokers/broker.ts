import type { DeliveryInfo, RawMessage } from '../protocol/raw-message';
import type { PyValue } from '../serialization/py-values';

/** Exchange types kombu knows (`kombu/entity.py`, `Exchange.type`). */
export type ExchangeType = 'direct' | 'topic' | 'fanout' | 'headers';

/**
 * A queue declaration mirroring kombu's `Queue(name, Exchange(name, type), routing_key, …)`.
 * Defaults are kombu's (`kombu/entity.py`, `Exchange.durable = True`, `Queue.durable = True`,
 * `auto_delete = False`, `exclusive = False`), so that our declarations are the ones a Python
 * worker makes and RabbitMQ never answers 406 PRECONDITION_FAILED.
 */
export interface QueueSpec {
  /** Queue name; `celery` by default in Celery (`task_default_queue`). */
  name: string;
  /** Exchange name; `''` means no exchange declaration and no binding (default exchange). */
  exchange?: string;
  /** Exchange type; kombu's default is `direct`. */
  exchangeType?: ExchangeType;
  /** Binding key; defaults to the queue name, as Celery's `Queue(name, routing_key=name)`. */
  routingKey?: string;
  /** Queue durability (default `true`). */
  durable?: boolean;
  /** Exchange durability (default `true`; `celery.pidbox` is the known `false`). */
  exchangeDurable?: boolean;
  autoDelete?: boolean;
  exchangeAutoDelete?: boolean;
  exclusive?: boolean;
  /**
   * Queue arguments exactly as kombu sends them, e.g. `{'x-max-priority': 10}`,
   * `{'x-expires': 10000, 'x-message-ttl': 300000}` (integer milliseconds, as produced by
   * `kombu/transport/base.py`, `to_rabbitmq_queue_arguments`).
   */
  arguments?: Record<string, PyValue>;
}

/** Where to publish: kombu `Producer.publish(exchange=…, routing_key=…)`. */
export interface PublishTarget {
  /** `''` is the default exchange, which Celery uses for direct queues (`send_task_message`). */
  exchange: string;
  routingKey: string;
  /** Queue to declare (once per broker connection) before publishing, like kombu `declare=[queue]`. */
  queue?: QueueSpec;
}

/** Per-publish options. */
export interface PublishOptions {
  /** AMQP `mandatory` flag (returned if unroutable). Ignored on Redis. */
  mandatory?: boolean;
}

/** One message + target in a {@link Broker.publishMany} batch. */
export interface PublishItem {
  message: RawMessage;
  target: PublishTarget;
  opts?: PublishOptions;
}

/** A message handed to a consumer. Exactly one of `ack()`/`reject()` must be called. */
export interface Delivery {
  readonly message: RawMessage;
  readonly deliveryInfo: DeliveryInfo;
  /** AMQP delivery tag (number) or kombu Redis delivery tag (uuid string). */
  readonly deliveryTag: string | number;
  readonly redelivered: boolean;
  /** The queue this delivery came from. */
  readonly queue: string;
  /** The consumer session (channel incarnation) that delivered it; bumps on every reset. */
  readonly session: number;
  /** True once the broker took this delivery back: ack()/reject() then resolve as no-ops. */
  readonly isVoid: boolean;
  ack(): Promise<void>;
  /** Reject; with `requeue` the broker delivers it again (Redis: to the back of the FIFO). */
  reject(requeue: boolean): Promise<void>;
}

/** Callback receiving deliveries; a rejected promise is reported via {@link ConsumeOptions.onError}. */
export type DeliveryHandler = (delivery: Delivery) => void | Promise<void>;

export interface ConsumeOptions {
  /** Maximum unacknowledged deliveries in flight (0 = unlimited). Celery: concurrency × 4. */
  prefetch?: number;
  /**
   * AMQP `basic.qos` `global` flag (Celery `Tasks.qos_global`): `true` per channel (RabbitMQ
   * 3.3+ semantics, the default), `false` per consumer (quorum queues refuse global QoS), or
   * `'by-server-version'`: per consumer on RabbitMQ < 3.3 and ≥ 4.0 from the server properties
   * (kombu 5.7 `pyamqp.Transport.qos_semantics_matches_spec`). Ignored on Redis.
   */
  prefetchGlobal?: boolean | 'by-server-version';
  /** Handler failures and transport errors after `consume()` resolved. */
  onError?: (err: Error) => void;
  /**
   * kombu `no_ack=True` (pidbox and event consumers): the broker forgets the message on delivery;
   * `ack()`/`reject()` are no-ops. AMQP only; Redis fanout uses `subscribeFanout`.
   */
  noAck?: boolean;
  /**
   * The broker took back every unacked delivery this consumer had handed out (connection or
   * channel lost, consumer cancelled by the broker): they will be redelivered. Called before any
   * delivery of the new session reaches the handler.
   */
  onReset?: (reason: Error) => void;
}

/** A running consumer. */
/** Something receiving messages that can be stopped: a fanout subscription (pidbox, events). */
export interface Subscription {
  /** Stop receiving; unacked deliveries stay pending until acked/rejected or the broker closes. */
  cancel(): Promise<void>;
}

/** A task-queue consumer (memory, Redis, AMQP, SQS): its queue set and prefetch can change. */
export interface Consumer extends Subscription {
  /** The queues consumed now. */
  readonly queues: readonly string[];
  /** add_consumer: consume one more queue on this consumer; held deliveries are untouched. */
  addQueue(queue: string): Promise<void>;
  /** cancel_consumer: stop consuming one queue; deliveries already handed out stay valid. */
  cancelQueue(queue: string): Promise<void>;
  /**
   * Change the prefetch limit while consuming (Celery raises it per held ETA message,
   * `consumer.qos.increment_eventually`).
   */
  setPrefetch(prefetch: number): Promise<void>;
}

/** One status stream for every transport; the worker logs it in Celery's words. */
export type BrokerStatus =
  | { readonly state: 'connecting'; readonly target: string; readonly attempt: number }
  | { readonly state: 'connected'; readonly target: string }
  | { readonly state: 'lost'; readonly target: string; readonly reason: Error }
  | {
      readonly state: 'reconnecting';
      readonly target: string;
      readonly attempt: number;
      readonly delayMs: number;
      readonly reason: Error;
      /** A failover list moves on to its next node at once (`Will retry using next failover.`). */
      readonly failover?: boolean;
    }
  | { readonly state: 'gave-up'; readonly target: string; readonly reason: Error };
export type BrokerStatusListener = (status: BrokerStatus) => void;
// `target`: the URL with the password masked as Celery prints it (amqp://guest:**@127.0.0.1:5672//).

/** What a transport can do (`kombu/transport/base.py`, `Transport.implements`). */
export interface BrokerCapabilities {
  /** Broker-side publisher confirms (AMQP confirm mode). Redis: LPUSH reply counts as acceptance. */
  publisherConfirms: boolean;
  /** Higher priority number served first (RabbitMQ) or lower first (kombu Redis). */
  priorityOrder: 'higher-first' | 'lower-first';
  /** Broker enforces `x-message-ttl` / `expiration`. */
  messageTtl: boolean;
  /** Exchange types that route. */
  exchangeTypes: readonly ExchangeType[];
}

/**
 * One small interface in front of each driver, modelled on kombu's `Channel`
 * (`basic_publish`, `basic_consume`, `basic_ack`, `basic_reject`).
 */
export interface Broker {
  readonly capabilities: BrokerCapabilities;
  /** Subscribe to status changes; returns the unsubscribe function. */
  onStatus(listener: BrokerStatusListener): () => void;
  /** Connect; idempotent (concurrent callers share one attempt). */
  connect(): Promise<void>;
  /** Close; idempotent. Redis restores unacked deliveries, as kombu's `QoS.restore_unacked_once`. */
  close(): Promise<void>;
  /** Declare exchange, queue and binding as kombu `maybe_declare` does. */
  declareQueue(spec: QueueSpec): Promise<void>;
  /** Resolves once the broker accepted the message (AMQP confirm / Redis reply). */
  publish(message: RawMessage, target: PublishTarget, opts?: PublishOptions): Promise<void>;
  /** Pipelined batch publish; resolves when all were accepted. */
  publishMany(items: readonly PublishItem[]): Promise<void>;
  consume(
    queues: readonly string[],
    handler: DeliveryHandler,
    opts?: ConsumeOptions,
  ): Promise<Consumer>;
}

/** Reconnect delay policy: attempt number (1-based) → milliseconds, or `undefined` to give up. */
export type BackoffPolicy = (attempt: number) => number | undefined;

/**
 * kombu's schedule: 2 s, then +2 s per attempt, capped at 30 s, forever (`kombu/connection.py`,
 * `Connection.ensure_connection`: `interval_start=2, interval_step=2, interval_max=30`).
 */
export const defaultBackoff: BackoffPolicy = (attempt) => Math.min(2000 * attempt, 30_000);
