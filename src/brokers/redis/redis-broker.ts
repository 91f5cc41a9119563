import { Redis, type ChainableCommander } from 'ioredis';
import { BrokerConnectionError, BrokerError } from '../../errors/errors';
import type { DeliveryInfo, RawMessage } from '../../protocol/raw-message';
import { decodeRedisEnvelope } from '../../protocol/redis-envelope';
import {
  bindingKey,
  bindingMember,
  fanoutChannel,
  permanentBindingKey,
} from '../../protocol/redis-keys';
import type { JsonDialect } from '../../serialization/registry';
import { systemClock, type Clock } from '../../util/clock';
import { uuid4, type UuidFactory } from '../../util/uuid';
import {
  defaultBackoff,
  type BackoffPolicy,
  type Broker,
  type BrokerCapabilities,
  type ConsumeOptions,
  type Consumer,
  type DeliveryHandler,
  type ExchangeType,
  type PublishItem,
  type PublishTarget,
  type QueueSpec,
} from '../broker';
import type { ExchangeOptions, FanoutBroker, FanoutMessage } from '../fanout';
import { parseBrokerUrl, type RedisBrokerUrl } from '../url';
import { RedisEnvelopeWriter } from './envelope-writer';
import { RedisFanoutSubscriber } from './redis-fanout';
import { collectDeclarations, exchangesToLookup, planPublishes } from './publish-plan';
import { bindingPattern, lookupQueues } from './routing';
import { RedisConsumer } from './redis-consumer';
import { toRedisError } from './redis-qos';

/** Messages per pipeline of a {@link RedisBroker.publishMany} batch. */
const PUBLISH_CHUNK = 500;

/** Options of {@link RedisBroker}. */
export interface RedisBrokerOptions {
  url: string | RedisBrokerUrl;
  backoff?: BackoffPolicy;
  clock?: Clock;
  /** Delivery tags (kombu: uuid4 per publish, `Channel._next_delivery_tag`). */
  uuid?: UuidFactory;
  /** Envelope JSON dialect (kombu ≥5.3 `__type__` envelopes by default). */
  jsonDialect?: JsonDialect;
  /**
   * Also record each binding in `_kombu.binding_permanent.<exchange>`, as kombu ≥5.7 does for
   * queues without `x-expires` (`Channel._queue_bind`), so that kombu 5.7's binding sweep never
   * deletes a table we route through. Default true; false reproduces kombu ≤5.6 exactly.
   */
  permanentBindings?: boolean;
  /** BRPOP timeout in seconds (kombu `brpop_timeout`, default 1). */
  brpopTimeout?: number;
  /** Transport option `visibility_timeout` in seconds (kombu default 3600). */
  visibilityTimeout?: number;
  /** Transport option `unacked_mutex_expire` in seconds (kombu default 300). */
  unackedMutexExpire?: number;
  /**
   * How often consumers call `restore_visible` (kombu: every 10 s `maybe_restore_messages`, which
   * acts on every 10th call, plus once at start); `0` disables it.
   */
  restoreIntervalMs?: number;
  onError?: (err: Error) => void;
}

/**
 * kombu's Redis virtual transport (`kombu/transport/redis.py`) from Node: the same keys, envelope,
 * binding sets, priority lists and ack emulation, so Python workers and we share queues.
 */
export class RedisBroker implements Broker, FanoutBroker {
  readonly capabilities: BrokerCapabilities = {
    publisherConfirms: false,
    priorityOrder: 'lower-first',
    messageTtl: false,
    exchangeTypes: ['direct', 'topic', 'fanout'],
  };
  readonly url: RedisBrokerUrl;
  private readonly opts: RedisBrokerOptions;
  private client: Redis | undefined;
  private connecting: Promise<void> | undefined;
  private closed = false;
  /** Exchange types this process declared (`BrokerState.exchanges`); others are `direct`. */
  private readonly exchangeTypes = new Map<string, ExchangeType>();
  private readonly consumers = new Set<RedisConsumer>();
  private readonly envelopeWriter: RedisEnvelopeWriter;

  constructor(opts: RedisBrokerOptions) {
    const url = typeof opts.url === 'string' ? parseBrokerUrl(opts.url) : opts.url;
    if (url.transport !== 'redis') throw new BrokerError(`not a Redis URL: ${url.scheme}`);
    this.url = url;
    this.opts = opts;
    this.envelopeWriter = new RedisEnvelopeWriter(opts.jsonDialect);
  }

  /** ioredis options for this URL; RESP2 pinned, as redis-py speaks it (design-notes §3.7). */
  redisOptions() {
    const u = this.url;
    const backoff = this.opts.backoff ?? defaultBackoff;
    return {
      ...(u.socketPath === undefined
        ? { host: u.hostname ?? '127.0.0.1', port: u.port ?? 6379 }
        : { path: u.socketPath }),
      db: u.db,
      ...(u.username === undefined ? {} : { username: u.username }),
      ...(u.password === undefined ? {} : { password: u.password }),
      ...(u.tls ? { tls: {} } : {}),
      protocol: 2 as const,
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      retryStrategy: (times: number) => (this.closed ? null : (backoff(times) ?? null)),
    };
  }

  /** A new connection with this broker's settings (BRPOP needs its own, like kombu's). */
  newClient(): Redis {
    const c = new Redis(this.redisOptions());
    c.on('error', (e: Error) => {
      if (!this.closed) this.opts.onError?.(toRedisError(e, 'redis connection'));
    });
    return c;
  }

  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new BrokerConnectionError('broker is closed'));
    if (this.client) return Promise.resolve();
    this.connecting ??= (async () => {
      const c = this.newClient();
      try {
        await c.connect();
      } catch (e) {
        c.disconnect();
        throw toRedisError(e, `cannot connect to redis db ${String(this.url.db)}`);
      }
      this.client = c;
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async cmd(): Promise<Redis> {
    await this.connect();
    if (!this.client) throw new BrokerConnectionError('not connected');
    return this.client;
  }

  /** Closes consumers first: their unacked deliveries are RPUSHed back (`QoS.restore_unacked`). */
  async close(): Promise<void> {
    if (this.closed) return;
    const errors: unknown[] = [];
    for (const c of [...this.consumers]) await c.cancel().catch((e: unknown) => errors.push(e));
    this.closed = true;
    await this.connecting?.catch(() => undefined);
    const c = this.client;
    this.client = undefined;
    if (c) {
      await c.quit().catch(() => {
        c.disconnect();
      });
    }
    if (errors.length > 0) throw toRedisError(errors[0], 'restoring unacked messages on close');
  }

  /**
   * `Queue.declare` on the virtual transport: nothing is created for the queue itself (kombu only
   * runs LLENs); the binding is `SADD _kombu.binding.<exchange> <rk>\x06\x16<pattern>\x06\x16<q>`.
   */
  async declareQueue(spec: QueueSpec): Promise<void> {
    const exchange = spec.exchange ?? spec.name;
    if (exchange === '') return;
    const type = spec.exchangeType ?? 'direct';
    this.exchangeTypes.set(exchange, type);
    const rk = spec.routingKey ?? spec.name;
    const client = await this.cmd();
    const member = bindingMember(rk, bindingPattern(type, rk), spec.name);
    try {
      if (this.opts.permanentBindings === false) await client.sadd(bindingKey(exchange), member);
      else {
        await client
          .multi()
          .sadd(bindingKey(exchange), member)
          .sadd(permanentBindingKey(exchange), member)
          .exec();
      }
    } catch (e) {
      throw toRedisError(e, `declaring queue ${spec.name}`);
    }
  }

  /**
   * `exchange_declare` on the virtual transport only records the type in memory
   * (`BrokerState.exchanges`): it is what makes `celeryev`/`celery.pidbox` publishes PUBLISHes.
   */
  declareExchange(name: string, type: ExchangeType, _opts?: ExchangeOptions): Promise<void> {
    this.exchangeTypes.set(name, type);
    return Promise.resolve();
  }

  /** SADD the binding as kombu does, then PSUBSCRIBE its channel (`Channel._subscribe`). */
  async subscribeFanout(
    spec: QueueSpec,
    handler: (m: FanoutMessage) => void,
    onError?: (err: Error) => void,
  ): Promise<Consumer> {
    const exchange = spec.exchange ?? spec.name;
    await this.declareQueue({ ...spec, exchangeType: 'fanout' });
    const rk = (spec.routingKey ?? '').replace(/#/g, '*');
    const pattern = fanoutChannel(exchange, rk, { db: this.url.db });
    const sub = new RedisFanoutSubscriber(this.newClient(), pattern, handler, onError);
    await sub.start();
    return sub;
  }

  /** Queues `exchange` routes `routingKey` to (`Channel._lookup`; SMEMBERS per call, as kombu). */
  async lookup(exchange: string, routingKey: string): Promise<string[]> {
    if (exchange === '') return [routingKey];
    const type = this.exchangeTypes.get(exchange) ?? 'direct';
    const members = await (await this.cmd()).smembers(bindingKey(exchange));
    return lookupQueues(exchange, type, members, routingKey);
  }

  async publish(message: RawMessage, target: PublishTarget): Promise<void> {
    await this.publishMany([{ message, target }]);
  }

  /**
   * One batch in at most two round trips: the batch's distinct binding SADDs and SMEMBERS of its
   * exchanges, then one pipeline of LPUSH/PUBLISH (see `publish-plan.ts` for why the list
   * contents equal kombu's message-by-message `basic_publish`).
   */
  async publishMany(items: readonly PublishItem[]): Promise<void> {
    if (items.length === 0) return;
    const client = await this.cmd();
    const decls = collectDeclarations(items);
    for (const d of decls) this.exchangeTypes.set(d.exchange, d.type);
    const typeOf = (ex: string): ExchangeType | undefined => this.exchangeTypes.get(ex);
    const exchanges = exchangesToLookup(items, typeOf);
    const members = new Map<string, readonly string[]>();
    if (decls.length > 0 || exchanges.length > 0) {
      const pre = client.pipeline();
      const permanent = this.opts.permanentBindings !== false;
      for (const d of decls) {
        pre.sadd(d.key, d.member);
        if (permanent) pre.sadd(permanentBindingKey(d.exchange), d.member);
      }
      const declCommands = decls.length * (permanent ? 2 : 1);
      for (const ex of exchanges) pre.smembers(bindingKey(ex));
      const res = await execPipeline(pre, 'publish: routing');
      for (let i = 0; i < declCommands; i++) {
        const err = res[i]?.[0];
        const d = decls[permanent ? Math.floor(i / 2) : i];
        if (err) throw toRedisError(err, `declaring queue ${d?.queue ?? ''}`);
      }
      exchanges.forEach((ex, i) => {
        const [err, value] = res[declCommands + i] ?? [null, []];
        if (err) throw toRedisError(err, 'publish: routing');
        members.set(ex, value as string[]);
      });
    }
    const uuid = this.opts.uuid ?? uuid4;
    const writer = this.envelopeWriter;
    const ctx = {
      typeOf,
      members,
      encode: (message: RawMessage, di: DeliveryInfo) => writer.write(message, di, uuid()),
      db: this.url.db,
    };
    // Chunks are sent as soon as they are encoded, so Redis executes one chunk while we encode
    // the next; one connection keeps them in order.
    const sent: Promise<[Error | null, unknown][]>[] = [];
    for (let i = 0; i < items.length; i += PUBLISH_CHUNK) {
      const cmds = planPublishes(items.slice(i, i + PUBLISH_CHUNK), ctx);
      if (cmds.length === 0) continue;
      const pipe = client.pipeline();
      for (const c of cmds) {
        if (c.kind === 'lpush') pipe.lpush(c.key, ...c.values);
        else pipe.publish(c.channel, c.value);
      }
      sent.push(execPipeline(pipe, 'publish'));
    }
    for (const r of await Promise.allSettled(sent)) {
      if (r.status === 'rejected') throw r.reason;
      const failed = r.value.find(([err]) => err !== null);
      if (failed?.[0]) throw toRedisError(failed[0], 'publish');
    }
  }

  async consume(
    queues: readonly string[],
    handler: DeliveryHandler,
    opts: ConsumeOptions = {},
  ): Promise<Consumer> {
    const client = await this.cmd();
    const consumer = new RedisConsumer({
      broker: this,
      client,
      queues,
      handler,
      opts,
      clock: this.opts.clock ?? systemClock,
      brpopTimeout: this.opts.brpopTimeout ?? 1,
      visibilityTimeout: this.opts.visibilityTimeout ?? 3600,
      unackedMutexExpire: this.opts.unackedMutexExpire ?? 300,
      restoreIntervalMs: this.opts.restoreIntervalMs ?? 10_000,
      uuid: this.opts.uuid ?? uuid4,
      decode: decodeRedisEnvelope,
      onDone: (c) => this.consumers.delete(c),
    });
    this.consumers.add(consumer);
    consumer.start();
    return consumer;
  }
}

/** `exec` with transport errors typed; a null reply (aborted transaction) counts as empty. */
async function execPipeline(
  pipe: ChainableCommander,
  what: string,
): Promise<[Error | null, unknown][]> {
  try {
    return (await pipe.exec()) ?? [];
  } catch (e) {
    throw toRedisError(e, what);
  }
}
