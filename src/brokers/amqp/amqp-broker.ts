import * as amqplib from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { BrokerConnectionError, BrokerError, isCeleryError } from '../../errors/errors';
import type { RawMessage } from '../../protocol/raw-message';
import {
  defaultBackoff,
  type BackoffPolicy,
  type Broker,
  type BrokerCapabilities,
  type BrokerStatusListener,
  type ConsumeOptions,
  type Consumer,
  type Delivery,
  type DeliveryHandler,
  type ExchangeType,
  type PublishItem,
  type PublishOptions,
  type PublishTarget,
  type QueueSpec,
} from '../broker';
import type { ExchangeOptions, FanoutBroker, FanoutMessage } from '../fanout';
import { parseBrokerUrl, type AmqpBrokerUrl } from '../url';
import { fromAmqpMessage, toFieldTable, toPublishOptions } from './properties';

/** Options of {@link AmqpBroker}. */
export interface AmqpBrokerOptions {
  /** `amqp://…` URL or an already parsed one. */
  url: string | AmqpBrokerUrl;
  /** Reconnect delays after connection loss (kombu-like by default). */
  backoff?: BackoffPolicy;
  /** Timer used between reconnect attempts; injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
  /** Heartbeat seconds (kombu/Celery default `broker_heartbeat` = 120 on the worker; 0 here). */
  heartbeat?: number;
  /** Errors after the fact: connection loss, failed reconnects, consumer cancels. */
  onError?: (err: Error) => void;
}

const realSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

/** Wrap anything amqplib throws into our typed tree, keeping the AMQP reply code. */
export function toBrokerError(e: unknown, what: string): BrokerError {
  if (isCeleryError(e) && e instanceof BrokerError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  const replyCode = typeof code === 'number' ? code : undefined;
  const msg = e instanceof Error ? e.message : String(e);
  const opts = { cause: e, ...(replyCode === undefined ? {} : { replyCode }) };
  if (replyCode === 406) {
    // e.g. "PRECONDITION_FAILED - inequivalent arg 'x-max-priority' for queue 'q' …"
    return new BrokerError(`${what}: declaration conflicts with the existing entity: ${msg}`, opts);
  }
  if (replyCode === undefined || replyCode >= 500 || replyCode === 320) {
    return new BrokerConnectionError(`${what}: ${msg}`, opts);
  }
  return new BrokerError(`${what}: ${msg}`, opts);
}

interface ConsumerState {
  queues: readonly string[];
  handler: DeliveryHandler;
  opts: ConsumeOptions;
  channel: Channel | undefined;
  cancelled: boolean;
}

/**
 * RabbitMQ through amqplib, behaving as kombu's py-amqp transport: confirm channel for publishes,
 * Celery's declarations, `basic_qos` + `basic_consume`, typed errors and reconnect with backoff.
 */
export class AmqpBroker implements Broker, FanoutBroker {
  readonly capabilities: BrokerCapabilities = {
    publisherConfirms: true,
    priorityOrder: 'higher-first',
    messageTtl: true,
    exchangeTypes: ['direct', 'topic', 'fanout', 'headers'],
  };
  private readonly url: AmqpBrokerUrl;
  private readonly backoff: BackoffPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly opts: AmqpBrokerOptions;
  private model: ChannelModel | undefined;
  private pubChannel: ConfirmChannel | undefined;
  private declChannel: Promise<Channel> | undefined;
  private connecting: Promise<void> | undefined;
  private closed = false;
  /** kombu `maybe_declare` caches per connection; cleared on reconnect. */
  private declared = new Set<string>();
  private readonly consumers = new Set<ConsumerState>();
  private readonly statusListeners = new Set<BrokerStatusListener>();

  constructor(opts: AmqpBrokerOptions) {
    const url = typeof opts.url === 'string' ? parseBrokerUrl(opts.url) : opts.url;
    if (url.transport !== 'amqp') throw new BrokerError(`not an AMQP URL: ${url.scheme}`);
    this.url = url;
    this.opts = opts;
    this.backoff = opts.backoff ?? defaultBackoff;
    this.sleep = opts.sleep ?? realSleep;
  }

  onStatus(listener: BrokerStatusListener): () => void {
    this.statusListeners.add(listener);
    return () => {
      this.statusListeners.delete(listener);
    };
  }

  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new BrokerConnectionError('broker is closed'));
    if (this.pubChannel) return Promise.resolve();
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async open(): Promise<void> {
    const u = this.url;
    let model: ChannelModel;
    try {
      model = await amqplib.connect({
        protocol: u.tls ? 'amqps' : 'amqp',
        hostname: u.hostname,
        port: u.port,
        username: u.username,
        password: u.password,
        vhost: u.vhost,
        heartbeat: this.opts.heartbeat ?? Number(u.query.heartbeat ?? 0),
      });
    } catch (e) {
      throw toBrokerError(e, `cannot connect to ${u.hostname}:${String(u.port)}`);
    }
    model.on('error', () => undefined); // 'close' follows; handled there
    model.on('close', (err?: Error) => {
      this.onConnectionLost(model, err);
    });
    try {
      const ch = await model.createConfirmChannel();
      ch.on('error', () => undefined);
      ch.setMaxListeners(0);
      this.model = model;
      this.pubChannel = ch;
      this.declared = new Set();
      for (const c of this.consumers) await this.startConsumer(c);
    } catch (e) {
      await model.close().catch(() => undefined);
      throw toBrokerError(e, 'cannot open channel');
    }
  }

  private onConnectionLost(model: ChannelModel, err: Error | undefined): void {
    if (this.model !== model) return;
    this.model = undefined;
    this.pubChannel = undefined;
    this.declChannel = undefined;
    for (const c of this.consumers) c.channel = undefined;
    if (this.closed) return;
    this.report(toBrokerError(err ?? new Error('connection closed'), 'connection lost'));
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    for (let attempt = 1; !this.closed; attempt++) {
      const delay = this.backoff(attempt);
      if (delay === undefined) {
        this.report(
          new BrokerConnectionError(`gave up reconnecting after ${String(attempt - 1)} attempts`),
        );
        return;
      }
      await this.sleep(delay);
      if (this.isClosed()) return;
      try {
        await this.connect();
        return;
      } catch (e) {
        this.report(toBrokerError(e, `reconnect attempt ${String(attempt)} failed`));
      }
    }
  }

  private isClosed(): boolean {
    return this.closed;
  }

  private report(err: Error): void {
    this.opts.onError?.(err);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.connecting?.catch(() => undefined);
    const model = this.model;
    this.model = undefined;
    this.pubChannel = undefined;
    this.declChannel = undefined;
    this.consumers.clear();
    if (model) await model.close().catch(() => undefined);
  }

  private async channel(): Promise<ConfirmChannel> {
    await this.connect();
    const ch = this.pubChannel;
    if (!ch) throw new BrokerConnectionError('not connected');
    return ch;
  }

  /**
   * Declarations run on their own channel: a 406 closes the channel it happened on, and the
   * publish channel must survive it.
   */
  private async declareChannel(): Promise<Channel> {
    await this.connect();
    const model = this.model;
    if (!model) throw new BrokerConnectionError('not connected');
    if (!this.declChannel) {
      const p = model.createChannel().then((ch) => {
        ch.on('error', () => undefined);
        ch.on('close', () => {
          if (this.declChannel === p) this.declChannel = undefined;
        });
        return ch;
      });
      this.declChannel = p;
    }
    return this.declChannel;
  }

  /**
   * kombu `maybe_declare(queue)`: `exchange_declare`, `queue_declare`, `queue_bind`, each with
   * kombu's flags (`kombu/entity.py`, `Exchange.declare`, `Queue.declare`), cached per connection.
   */
  async declareQueue(spec: QueueSpec): Promise<void> {
    const key = declarationKey(spec);
    if (this.declared.has(key)) return;
    const ch = await this.declareChannel();
    const exchange = spec.exchange ?? spec.name;
    try {
      if (exchange !== '') {
        await ch.assertExchange(exchange, spec.exchangeType ?? 'direct', {
          durable: spec.exchangeDurable ?? true,
          autoDelete: spec.exchangeAutoDelete ?? false,
        });
      }
      await ch.assertQueue(spec.name, {
        durable: spec.durable ?? true,
        exclusive: spec.exclusive ?? false,
        autoDelete: spec.autoDelete ?? false,
        arguments: toFieldTable(spec.arguments ?? {}, '/arguments'),
      });
      if (exchange !== '') await ch.bindQueue(spec.name, exchange, spec.routingKey ?? spec.name);
    } catch (e) {
      throw toBrokerError(e, `declaring queue ${spec.name}`);
    }
    this.declared.add(key);
  }

  /** kombu `Exchange.declare` (`exchange_declare` with kombu's flags), cached per connection. */
  async declareExchange(
    name: string,
    type: ExchangeType,
    opts: ExchangeOptions = {},
  ): Promise<void> {
    const key = `exchange:${name}:${type}:${String(opts.durable)}:${String(opts.autoDelete)}`;
    if (this.declared.has(key)) return;
    const ch = await this.declareChannel();
    try {
      await ch.assertExchange(name, type, {
        durable: opts.durable ?? true,
        autoDelete: opts.autoDelete ?? false,
      });
    } catch (e) {
      throw toBrokerError(e, `declaring exchange ${name}`);
    }
    this.declared.add(key);
  }

  /** Declare + bind the queue, then consume it with `no_ack` (kombu `Node.listen`). */
  async subscribeFanout(
    spec: QueueSpec,
    handler: (m: FanoutMessage) => void,
    onError?: (err: Error) => void,
  ): Promise<Consumer> {
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

  /**
   * Publishes the whole batch in a tight loop and waits for the broker's confirms once: confirms
   * arrive asynchronously (often `multiple=true`), so awaiting each in turn would cost a round
   * trip per message. One shared callback counts them instead of a promise per message; 'drain'
   * still pauses the loop, since amqplib buffers without bound otherwise.
   */
  async publishMany(items: readonly PublishItem[]): Promise<void> {
    if (items.length === 0) return;
    let lastSpec: QueueSpec | undefined;
    for (const it of items) {
      const q = it.target.queue;
      if (q === undefined || q === lastSpec) continue;
      lastSpec = q;
      if (!this.declared.has(declarationKey(q))) await this.declareQueue(q);
    }
    const ch = await this.channel();
    let pending = items.length;
    let failure: Error | undefined;
    let settle: (() => void) | undefined;
    const done = new Promise<void>((resolve) => {
      settle = resolve;
    });
    const confirmed = (err: unknown): void => {
      if (err && !failure) failure = confirmError(err);
      if (--pending === 0) settle?.();
    };
    let sent = 0;
    for (const { message, target, opts } of items) {
      let ok: boolean;
      try {
        const options = toPublishOptions(message);
        if (opts?.mandatory) options.mandatory = true;
        const body = message.body;
        const content = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
        ok = ch.publish(target.exchange, target.routingKey, content, options, confirmed);
      } catch (e) {
        // An unencodable message (EncodeError), or amqplib throwing synchronously on a closed
        // channel or an oversized header table: the rest of the batch is not sent, and what was
        // sent is still waited for.
        failure ??= isCeleryError(e)
          ? e
          : e instanceof RangeError
            ? new BrokerError(e.message, { cause: e })
            : toBrokerError(e, 'publish');
        pending -= items.length - sent;
        if (pending === 0) settle?.();
        break;
      }
      sent++;
      if (!ok) await waitDrain(ch);
    }
    await done;
    if (failure) throw failure;
  }

  async consume(
    queues: readonly string[],
    handler: DeliveryHandler,
    opts: ConsumeOptions = {},
  ): Promise<Consumer> {
    await this.connect();
    const state: ConsumerState = { queues, handler, opts, channel: undefined, cancelled: false };
    await this.startConsumer(state);
    this.consumers.add(state);
    return {
      get queues() {
        return state.queues;
      },
      addQueue: async (queue: string) => {
        if (state.queues.includes(queue)) return;
        state.queues = [...state.queues, queue];
        const ch = state.channel;
        if (ch) await this.consumeOne(state, ch, queue);
      },
      cancelQueue: (queue: string) => {
        state.queues = state.queues.filter((q) => q !== queue);
        return Promise.resolve();
      },
      cancel: async () => {
        state.cancelled = true;
        this.consumers.delete(state);
        const ch = state.channel;
        state.channel = undefined;
        if (ch) await ch.close().catch(() => undefined);
      },
      // `basic_qos(prefetch_count, global)`, as Celery's `QoS.update` sends it.
      setPrefetch: async (prefetch: number) => {
        state.opts = { ...state.opts, prefetch };
        await state.channel?.prefetch(prefetch, true);
      },
    };
  }

  private async startConsumer(state: ConsumerState): Promise<void> {
    const model = this.model;
    if (!model) throw new BrokerConnectionError('not connected');
    const ch = await model.createChannel();
    ch.on('error', (e: Error) => {
      state.opts.onError?.(toBrokerError(e, 'consumer channel'));
    });
    // Celery on RabbitMQ 3.3–3.x uses global QoS (`Tasks.start`, `qos_global`): one limit per channel.
    const prefetch = state.opts.prefetch ?? 0;
    if (prefetch > 0) await ch.prefetch(prefetch, true);
    state.channel = ch;
    for (const queue of state.queues) await this.consumeOne(state, ch, queue);
  }

  private async consumeOne(state: ConsumerState, ch: Channel, queue: string): Promise<void> {
    await ch.consume(
      queue,
      (msg) => {
        if (msg === null) {
          state.opts.onError?.(new BrokerError(`consumer of ${queue} was cancelled by the broker`));
          return;
        }
        this.dispatch(state, ch, queue, msg);
      },
      { noAck: state.opts.noAck ?? false },
    );
  }

  private dispatch(state: ConsumerState, ch: Channel, queue: string, msg: ConsumeMessage): void {
    let settled = state.opts.noAck === true;
    const settle = (fn: () => void): Promise<void> => {
      if (state.opts.noAck === true) return Promise.resolve();
      if (settled) return Promise.reject(new BrokerError('delivery already acknowledged'));
      settled = true;
      try {
        fn();
        return Promise.resolve();
      } catch (e) {
        return Promise.reject(toBrokerError(e, 'ack/reject'));
      }
    };
    const { fields } = msg;
    const delivery: Delivery = {
      message: fromAmqpMessage(new Uint8Array(msg.content), msg.properties),
      deliveryInfo: {
        exchange: fields.exchange,
        routing_key: fields.routingKey,
        redelivered: fields.redelivered,
        ...(typeof msg.properties.priority === 'number'
          ? { priority: msg.properties.priority }
          : {}),
      },
      deliveryTag: fields.deliveryTag,
      redelivered: fields.redelivered,
      queue,
      session: 0,
      isVoid: false,
      ack: () =>
        settle(() => {
          ch.ack(msg);
        }),
      reject: (requeue) =>
        settle(() => {
          ch.reject(msg, requeue);
        }),
    };
    Promise.resolve()
      .then(() => state.handler(delivery))
      .catch((e: unknown) => state.opts.onError?.(e instanceof Error ? e : new Error(String(e))));
  }
}

/** The `maybe_declare` cache key of a queue declaration. */
function declarationKey(spec: QueueSpec): string {
  return JSON.stringify(spec, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}

/** A negative confirm (`basic.nack`) or the channel closing before the confirm arrived. */
function confirmError(err: unknown): BrokerError {
  const msg = err instanceof Error ? err.message : String(err);
  return msg === 'channel closed'
    ? new BrokerConnectionError('publish: channel closed before the broker confirmed', {
        cause: err,
      })
    : new BrokerError('message was nacked by the broker', { cause: err });
}

function waitDrain(ch: Channel): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      ch.off('drain', done);
      ch.off('close', done);
      resolve();
    };
    ch.on('drain', done);
    ch.on('close', done);
  });
}
