import { Redis, type ChainableCommander } from 'ioredis';
import { BrokerConnectionError, BrokerError } from '../../errors/errors';
import type { DeliveryInfo, RawMessage } from '../../protocol/raw-message';
import { decodeRedisEnvelope } from '../../protocol/redis-envelope';
import type { JsonDialect } from '../../serialization/registry';
import { systemClock, type Clock } from '../../util/clock';
import { TickBatch } from '../../util/tick-batch';
import { uuid4, type UuidFactory } from '../../util/uuid';
import {
  defaultBackoff,
  type BackoffPolicy,
  type Broker,
  type BrokerCapabilities,
  type ConsumeOptions,
  type Consumer,
  type Subscription,
  type DeliveryHandler,
  type ExchangeType,
  type PublishItem,
  type PublishTarget,
  type QueueSpec,
} from '../broker';
import type { ExchangeOptions, FanoutBroker, FanoutMessage } from '../fanout';
import { parseBrokerUrl, type RedisBrokerUrl } from '../url';
import { RedisEnvelopeWriter } from '../../protocol/redis-envelope-writer';
import {
  maskedTarget,
  redisConnectionOptions,
  sentinelRoundError,
  type RedisSslOptions,
} from './connection-options';
import { RedisKeyspace } from './keyspace';
import { RedisFanoutSubscriber } from './redis-fanout';
import { watchHealth } from './health-check';
import { waitForReplicas } from './replica-wait';
import { collectDeclarations, exchangesToLookup, planPublishes } from './publish-plan';
import { bindingPattern, lookupQueues } from './routing';
import { RedisConsumer } from './redis-consumer';
import { toRedisError } from './redis-qos';
import { RedisStatusStream, type RedisStatusListener } from './redis-status';
import { parseRedisTransportOptions, type RedisTransportOptions } from './transport-options';
import { closeClient, dropClient } from './close-client';

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
  /**
   * `broker_transport_options` (kombu's snake_case keys), validated at construction. Explicit
   * options above win over the same setting here.
   */
  transportOptions?: RedisTransportOptions | Readonly<Record<string, unknown>>;
  /** `broker_use_ssl` (dict of `ssl_*` keys). */
  ssl?: RedisSslOptions | Readonly<Record<string, unknown>> | boolean | null;
  /**
   * On Sentinel, kombu < 5.4 publishes fanout messages on the literal `/{db}.` topic (see
   * `RedisKeyspace`); the line profile's `redisLegacySentinel`. Default false (kombu 5.7).
   */
  legacySentinel?: boolean;
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
  /** Key and channel names under the transport options. */
  readonly keys: RedisKeyspace;
  readonly transportOptions: RedisTransportOptions;
  private readonly status: RedisStatusStream;
  /** Single publishes (events, replies) of one turn, sent as one pipeline. */
  private readonly singles = new TickBatch<PublishItem>((items) => this.publishMany(items));

  constructor(opts: RedisBrokerOptions) {
    const url = typeof opts.url === 'string' ? parseBrokerUrl(opts.url) : opts.url;
    if (url.transport !== 'redis') throw new BrokerError(`not a Redis URL: ${url.scheme}`);
    this.url = url;
    this.opts = opts;
    this.envelopeWriter = new RedisEnvelopeWriter(opts.jsonDialect);
    const t = parseRedisTransportOptions(opts.transportOptions, 'broker_transport_options');
    this.transportOptions = t;
    const sentinel = url.sentinels !== undefined && url.sentinels.length > 0;
    const legacySentinel = sentinel && opts.legacySentinel === true;
    this.keys = new RedisKeyspace({
      db: url.db,
      ...(t.global_keyprefix === undefined ? {} : { globalKeyprefix: t.global_keyprefix }),
      ...(t.sep === undefined ? {} : { sep: t.sep }),
      ...(t.priority_steps === undefined ? {} : { prioritySteps: t.priority_steps }),
      ...(t.fanout_prefix === undefined ? {} : { fanoutPrefix: t.fanout_prefix }),
      ...(t.fanout_patterns === undefined ? {} : { fanoutPatterns: t.fanout_patterns }),
      ...(t.unacked_key === undefined ? {} : { unackedKey: t.unacked_key }),
      ...(t.unacked_index_key === undefined ? {} : { unackedIndexKey: t.unacked_index_key }),
      ...(t.unacked_mutex_key === undefined ? {} : { unackedMutexKey: t.unacked_mutex_key }),
      sentinelFanout: !sentinel
        ? 'current'
        : legacySentinel
          ? 'legacy'
          : t.sentinel_fanout_compat === true
            ? 'both'
            : 'current',
    });
    // Validates TLS files and Sentinel options now, not at the first connect.
    redisConnectionOptions(this.connectInput());
    this.status = new RedisStatusStream(maskedTarget(url), () => this.closed);
  }

  private connectInput() {
    return {
      url: this.url,
      transport: this.transportOptions,
      ...(this.opts.ssl === undefined ? {} : { ssl: this.opts.ssl }),
      role: 'broker' as const,
      setting: 'broker_url',
    };
  }

  /** Subscribe to connection status changes (the broker contract's status stream). */
  onStatus(listener: RedisStatusListener): () => void {
    return this.status.on(listener);
  }

  /** ioredis options for this URL; RESP2 pinned, as redis-py speaks it (design-notes §3.7). */
  redisOptions() {
    const backoff = this.opts.backoff ?? defaultBackoff;
    return {
      ...redisConnectionOptions(this.connectInput()),
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
    // `health_check_interval` (kombu default 25 s, 0 = off); a PING on a consumer's connection
    // waits behind its BRPOP, hence the BRPOP timeout as grace (kombu 5.7 does the same).
    const t = this.transportOptions;
    const stop = watchHealth(c, {
      interval: t.health_check_interval ?? 25,
      graceMs: (this.opts.brpopTimeout ?? t.polling_interval ?? 1) * 1000,
      // As an 'error' of the connection: the status stream gives it as the reason of the loss.
      onStale: (ms) => {
        c.emit(
          'error',
          new BrokerConnectionError(
            `Redis connection got no reply for ${String(Math.round(ms / 1000))} seconds; dropping stale connection (health_check_interval)`,
          ),
        );
      },
    });
    c.once('end', stop);
    return c;
  }

  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new BrokerConnectionError('broker is closed'));
    if (this.client) return Promise.resolve();
    this.connecting ??= (async () => {
      const c = this.newClient();
      this.status.attach(c);
      this.status.connecting();
      // ioredis rejects connect() with "Connection is closed."; the reason (TLS verification,
      // WRONGPASS, ECONNREFUSED) came as an 'error' event just before.
      let cause: Error | undefined;
      // In Sentinel mode ioredis' connect() never settles while no sentinel answers (a wrong
      // `sentinel_kwargs` password, all sentinels down): it reports each round as an error and
      // starts again. One round is this attempt, as one `Sentinel.discover_master` is kombu's.
      let abandon: ((e: Error) => void) | undefined;
      const abandoned = new Promise<never>((_, rej) => {
        abandon = rej;
      });
      abandoned.catch(() => undefined);
      const keep = (e: Error): void => {
        cause ??= e;
        const round = sentinelRoundError(e);
        if (round !== undefined) abandon?.(round);
      };
      c.on('error', keep);
      try {
        await Promise.race([c.connect(), abandoned]);
        c.off('error', keep);
      } catch (e) {
        c.off('error', keep);
        const why =
          cause !== undefined && e instanceof Error && e.message.includes('Connection is closed')
            ? cause
            : e;
        // This attempt is over; the caller retries (`broker_connection_retry_on_startup`).
        c.removeAllListeners('end');
        await dropClient(c);
        throw toRedisError(why, `cannot connect to ${this.status.target}`);
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
      await closeClient(c);
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
    const member = this.keys.member(rk, bindingPattern(type, rk), spec.name);
    try {
      if (this.opts.permanentBindings === false)
        await client.sadd(this.keys.binding(exchange), member);
      else {
        await client
          .multi()
          .sadd(this.keys.binding(exchange), member)
          .sadd(this.keys.bindingPermanent(exchange), member)
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
  ): Promise<Subscription> {
    const exchange = spec.exchange ?? spec.name;
    await this.declareQueue({ ...spec, exchangeType: 'fanout' });
    const rk = (spec.routingKey ?? '').replace(/#/g, '*');
    const patterns = this.keys.fanoutChannels(exchange, rk);
    const sub = new RedisFanoutSubscriber(this.newClient(), patterns, handler, onError);
    await sub.start();
    return sub;
  }

  /** Queues `exchange` routes `routingKey` to (`Channel._lookup`; SMEMBERS per call, as kombu). */
  async lookup(exchange: string, routingKey: string): Promise<string[]> {
    if (exchange === '') return [routingKey];
    const type = this.exchangeTypes.get(exchange) ?? 'direct';
    const members = await (await this.cmd()).smembers(this.keys.binding(exchange));
    return lookupQueues(exchange, type, members, routingKey, this.keys.sep);
  }

  /**
   * One message; the publishes of one event-loop turn (a worker's task events, pidbox replies)
   * go out together in one pipeline, in call order ({@link TickBatch}).
   */
  publish(message: RawMessage, target: PublishTarget): Promise<void> {
    return this.singles.add({ message, target });
  }

  /**
   * One batch in at most two round trips: the batch's distinct binding SADDs and SMEMBERS of its
   * exchanges, then one pipeline of LPUSH/PUBLISH (see `publish-plan.ts` for why the list
   * contents equal kombu's message-by-message `basic_publish`).
   */
  async publishMany(items: readonly PublishItem[]): Promise<void> {
    if (items.length === 0) return;
    const client = await this.cmd();
    const decls = collectDeclarations(items, this.keys);
    for (const d of decls) this.exchangeTypes.set(d.exchange, d.type);
    const typeOf = (ex: string): ExchangeType | undefined => this.exchangeTypes.get(ex);
    const exchanges = exchangesToLookup(items, typeOf);
    const members = new Map<string, readonly string[]>();
    if (decls.length > 0 || exchanges.length > 0) {
      const pre = client.pipeline();
      const permanent = this.opts.permanentBindings !== false;
      for (const d of decls) {
        pre.sadd(d.key, d.member);
        if (permanent) pre.sadd(this.keys.bindingPermanent(d.exchange), d.member);
      }
      const declCommands = decls.length * (permanent ? 2 : 1);
      for (const ex of exchanges) pre.smembers(this.keys.binding(ex));
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
      keyspace: this.keys,
    };
    // Chunks are sent as soon as they are encoded, so Redis executes one chunk while we encode
    // the next; one connection keeps them in order.
    const sent: Promise<[Error | null, unknown][]>[] = [];
    let queued = false;
    for (let i = 0; i < items.length; i += PUBLISH_CHUNK) {
      const cmds = planPublishes(items.slice(i, i + PUBLISH_CHUNK), ctx);
      if (cmds.length === 0) continue;
      const pipe = client.pipeline();
      for (const c of cmds) {
        if (c.kind === 'lpush') {
          pipe.lpush(c.key, ...c.values);
          queued = true;
        } else pipe.publish(c.channel, c.value);
      }
      sent.push(execPipeline(pipe, 'publish'));
    }
    for (const r of await Promise.allSettled(sent)) {
      if (r.status === 'rejected') throw r.reason;
      const failed = r.value.find(([err]) => err !== null);
      if (failed?.[0]) throw toRedisError(failed[0], 'publish');
    }
    // Fanout-only batches (events, pidbox replies) are not waited for: they are not stored.
    if (queued) await waitForReplicas(client, this.transportOptions);
  }

  async consume(
    queues: readonly string[],
    handler: DeliveryHandler,
    opts: ConsumeOptions = {},
  ): Promise<Consumer> {
    const client = await this.cmd();
    const t = this.transportOptions;
    const consumer = new RedisConsumer({
      client,
      newClient: () => this.newClient(),
      lookup: (ex, rk) => this.lookup(ex, rk),
      keys: this.keys,
      queues,
      strategy: t.queue_order_strategy ?? 'round_robin',
      handler,
      opts,
      clock: this.opts.clock ?? systemClock,
      // `polling_interval`, when given, is the BRPOP timeout (`Transport.__init__`).
      brpopTimeout: this.opts.brpopTimeout ?? t.polling_interval ?? 1,
      visibilityTimeout: this.opts.visibilityTimeout ?? t.visibility_timeout ?? 3600,
      unackedMutexExpire: this.opts.unackedMutexExpire ?? t.unacked_mutex_expire ?? 300,
      restoreIntervalMs: this.opts.restoreIntervalMs ?? (t.unacked_restore_interval ?? 10) * 1000,
      restoreThrottle: t.unacked_restore_throttle ?? 10,
      restoreLimit: t.unacked_restore_limit ?? null,
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
