import type { ChannelModel } from 'amqplib';
import { BrokerError } from '../../errors/errors';
import type { RawMessage } from '../../protocol/raw-message';
import {
  defaultBackoff,
  type BackoffPolicy,
  type Broker,
  type BrokerCapabilities,
  type BrokerStatusListener,
  type ConsumeOptions,
  type Consumer,
  type Subscription,
  type DeliveryHandler,
  type ExchangeType,
  type PublishItem,
  type PublishOptions,
  type PublishTarget,
  type QueueSpec,
} from '../broker';
import type { ExchangeOptions, FanoutBroker, FanoutMessage } from '../fanout';
import { parseBrokerUrls, type AmqpBrokerUrl, type BrokerUrl } from '../url';
import type { TopologyBroker } from '../topology';
import { AmqpConnection } from './connection';
import { failoverStrategy, type FailoverStrategy, type FailoverStrategyName } from './failover';
import { AmqpConsumer } from './consumer';
import { Declarations } from './declarations';
import { Publisher } from './publisher';

import { toBrokerError } from './errors-map';

export { toBrokerError };

/** Options of {@link AmqpBroker}. */
export interface AmqpBrokerOptions {
  /**
   * `amqp://…` URL, a `;`-separated failover list (`amqp://h1//;amqp://h2//`, as Celery writes
   * `broker_url`), or already parsed URL(s). Every entry must be AMQP.
   */
  url: string | AmqpBrokerUrl | readonly (string | AmqpBrokerUrl)[];
  /** `broker_failover_strategy`: `round-robin` (default), `shuffle`, or a function. */
  failoverStrategy?: FailoverStrategyName | FailoverStrategy<AmqpBrokerUrl> | null;
  /** Reconnect delays after connection loss (kombu's 2 s, +2 s, ≤ 30 s by default). */
  backoff?: BackoffPolicy;
  /** `broker_connection_retry` (default true): reconnect after a loss. */
  connectionRetry?: boolean;
  /** `broker_connection_max_retries` (default 100, `null` = forever). */
  connectionMaxRetries?: number | null;
  /** Timer used between reconnect attempts; injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
  /** Heartbeat seconds (kombu/Celery default `broker_heartbeat` = 120 on the worker; 0 here). */
  heartbeat?: number;
  /**
   * The worker's reconnect order: after a loss, start again from the first URL of the failover
   * list, as Celery's worker consumer does (it builds a new connection); default false, the
   * client's order (continue the cycle from the lost node). See {@link RetrySettings}.
   */
  restartFromFirstOnLoss?: boolean;
  /** `connection_name` client property (what `rabbitmqctl list_connections` shows). */
  connectionName?: string;
  /** Errors after the fact: connection loss (also on {@link AmqpBroker.onStatus}). */
  onError?: (err: Error) => void;
  /** Warnings a user must see (an undecodable message dead-lettered); default `console.warn`. */
  warn?: (msg: string) => void;
}

const realSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

/**
 * RabbitMQ through amqplib, behaving as kombu's py-amqp transport, in four parts with one
 * recovery story: {@link AmqpConnection} (connect, status stream, reconnect with Celery's retry
 * settings), {@link Publisher} (confirm channel, reopened, publishes retried under confirms),
 * {@link Declarations} (`maybe_declare`, remembered for re-declaration) and {@link AmqpConsumer}
 * (sessions, void deliveries, re-declare + re-consume).
 */
export class AmqpBroker implements Broker, FanoutBroker, TopologyBroker {
  readonly capabilities: BrokerCapabilities = {
    publisherConfirms: true,
    priorityOrder: 'higher-first',
    messageTtl: true,
    exchangeTypes: ['direct', 'topic', 'fanout', 'headers'],
  };
  private readonly conn: AmqpConnection;
  private readonly declarations: Declarations;
  private readonly publisher: Publisher;
  private readonly consumers = new Set<AmqpConsumer>();
  private readonly warn: (msg: string) => void;

  constructor(opts: AmqpBrokerOptions) {
    const urls = amqpUrls(opts.url);
    const url = urls[0];
    if (url === undefined) throw new BrokerError('empty broker URL');
    this.warn =
      opts.warn ??
      ((m) => {
        console.warn(m);
      });
    const model = (): Promise<ChannelModel> => this.conn.connect();
    this.declarations = new Declarations(model);
    // A re-sent message may already be on the broker (its confirm, not the message, was lost):
    // say so, with the ids, since the task can then run twice (at-least-once publishing).
    this.publisher = new Publisher(model, (items) => {
      const ids = items.map((it) => it.message.properties.correlation_id ?? '?');
      this.warn(
        `publish: connection lost before the broker confirmed ${String(items.length)} message(s); sending them again (ids: ${ids.join(', ')})`,
      );
    });
    this.conn = new AmqpConnection(
      urls,
      opts.heartbeat ?? Number(url.query.heartbeat ?? 0),
      opts.connectionName,
      {
        retry: opts.connectionRetry ?? true,
        maxRetries: opts.connectionMaxRetries === undefined ? 100 : opts.connectionMaxRetries,
        backoff: opts.backoff ?? defaultBackoff,
        sleep: opts.sleep ?? realSleep,
        restartFromFirstOnLoss: opts.restartFromFirstOnLoss ?? false,
      },
      {
        opened: async (m) => {
          this.declarations.reset();
          this.publisher.reset();
          for (const c of this.consumers) await c.start(m);
        },
        lost: (reason) => {
          this.declarations.reset();
          this.publisher.reset();
          for (const c of this.consumers) c.reset(reason);
          opts.onError?.(reason);
        },
      },
      failoverStrategy(opts.failoverStrategy),
    );
  }

  /** The node in use (or being tried), as Celery prints it: `amqp://guest:**@127.0.0.1:5682//`. */
  get target(): string {
    return this.conn.target;
  }

  onStatus(listener: BrokerStatusListener): () => void {
    return this.conn.onStatus(listener);
  }

  async connect(): Promise<void> {
    await this.conn.connect();
  }

  async close(): Promise<void> {
    this.consumers.clear();
    await this.conn.close();
  }

  declareQueue(spec: QueueSpec): Promise<void> {
    return this.declarations.declareQueue(spec);
  }

  declareExchange(name: string, type: ExchangeType, opts: ExchangeOptions = {}): Promise<void> {
    return this.declarations.declareExchange(name, type, opts);
  }

  bindQueue(queue: string, exchange: string, routingKey: string): Promise<void> {
    return this.declarations.bindQueue(queue, exchange, routingKey);
  }

  bindExchange(destination: string, source: string, routingKey: string): Promise<void> {
    return this.declarations.bindExchange(destination, source, routingKey);
  }

  /** Declare + bind the queue, then consume it with `no_ack` (kombu `Node.listen`). */
  async subscribeFanout(
    spec: QueueSpec,
    handler: (m: FanoutMessage) => void,
    onError?: (err: Error) => void,
  ): Promise<Subscription> {
    await this.declareQueue(spec);
    return this.consume(
      [spec.name],
      (d) => {
        handler({ message: d.message, deliveryInfo: d.deliveryInfo });
      },
      { noAck: true, ...(onError ? { onError } : {}) },
    );
  }

  async publish(message: RawMessage, target: PublishTarget, opts?: PublishOptions): Promise<void> {
    await this.publishMany([{ message, target, ...(opts ? { opts } : {}) }]);
  }

  /** Declares what the batch names (kombu `declare=[queue]`), then publishes under confirms. */
  async publishMany(items: readonly PublishItem[]): Promise<void> {
    if (items.length === 0) return;
    let lastSpec: QueueSpec | undefined;
    for (const it of items) {
      const q = it.target.queue;
      if (q === undefined || q === lastSpec) continue;
      lastSpec = q;
      if (!this.declarations.isDeclared(q)) await this.declarations.declareQueue(q);
    }
    await this.publisher.publishMany(items);
  }

  async consume(
    queues: readonly string[],
    handler: DeliveryHandler,
    opts: ConsumeOptions = {},
  ): Promise<Consumer> {
    const model = await this.conn.connect();
    const c = new AmqpConsumer(queues, handler, opts, {
      current: () => this.conn.model,
      declarations: this.declarations,
      forget: (x) => this.consumers.delete(x),
      warn: this.warn,
    });
    this.consumers.add(c);
    try {
      await c.start(model);
    } catch (e) {
      await c.cancel();
      throw toBrokerError(e, `consume ${queues.join(', ')}`);
    }
    return c;
  }
}

/** The failover list of {@link AmqpBrokerOptions.url}; refuses a non-AMQP entry. */
function amqpUrls(u: AmqpBrokerOptions['url']): AmqpBrokerUrl[] {
  const list: readonly (string | AmqpBrokerUrl)[] = isUrlList(u) ? u : [u];
  const all: BrokerUrl[] = list.flatMap((x) => (typeof x === 'string' ? parseBrokerUrls(x) : [x]));
  const out: AmqpBrokerUrl[] = [];
  for (const x of all) {
    if (x.transport !== 'amqp') throw new BrokerError(`not an AMQP URL: ${x.scheme}`);
    out.push(x);
  }
  return out;
}

function isUrlList(u: AmqpBrokerOptions['url']): u is readonly (string | AmqpBrokerUrl)[] {
  return Array.isArray(u);
}
