import type { Redis } from 'ioredis';
import { BrokerError } from '../../errors/errors';
import type { RedisEnvelope } from '../../protocol/redis-envelope';
import type { Clock } from '../../util/clock';
import type { ConsumeOptions, Consumer, Delivery, DeliveryHandler } from '../broker';
import type { RedisKeyspace } from './keyspace';
import { QueueCycle, type QueueOrderStrategy } from './queue-cycle';
import { RedisQos, toRedisError } from './redis-qos';
import { dropClient } from './close-client';
import { restoreVisible } from './redis-visibility';
import { evalScript } from './redis-script';
import { parseFetchReply, type FetchedMessage } from '../../protocol/redis-fetch-script';

/** Upper bound of one fetch when prefetch is unlimited. */
const MAX_BATCH = 128;

/** What a consumer needs from its broker (passed in: no import of the broker class). */
export interface RedisConsumerInit {
  client: Redis;
  /** A new dedicated connection for BRPOP (it blocks its connection). */
  newClient: () => Redis;
  lookup: (exchange: string, routingKey: string) => Promise<string[]>;
  keys: RedisKeyspace;
  queues: readonly string[];
  strategy: QueueOrderStrategy;
  handler: DeliveryHandler;
  opts: ConsumeOptions;
  clock: Clock;
  brpopTimeout: number;
  visibilityTimeout: number;
  unackedMutexExpire: number;
  /** `unacked_restore_interval` in ms (0 disables the sweep). */
  restoreIntervalMs: number;
  /** `unacked_restore_throttle`: only every Nth sweep call scans. */
  restoreThrottle: number;
  restoreLimit: number | null;
  uuid: () => string;
  decode: (text: string) => RedisEnvelope;
  onDone: (c: RedisConsumer) => void;
}

/** `Delivery` with the issue-8 members (declared here until `broker.ts` has them). */
type RedisDelivery = Delivery & { readonly session: number; readonly isVoid: boolean };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * One BRPOP loop over several queues, as kombu's `Channel._brpop_start`/`_brpop_read`: keys are
 * ordered priority step first, then queues in `queue_order_strategy` order (round robin rotates
 * the queue that delivered to the end, `_queue_cycle.rotate`). Prefetch is enforced here,
 * client-side, like kombu's `QoS.can_consume`. Acks are HDELs on the shared hash, valid across
 * reconnects: deliveries never go void, `session` stays 0 and `onReset` is never called.
 */
export class RedisConsumer implements Consumer {
  private readonly qos: RedisQos;
  private readonly blocking: Redis;
  private readonly cycle: QueueCycle;
  private running = true;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private inflight = 0;
  private prefetch: number;
  private restoreTimer: NodeJS.Timeout | undefined;
  private restoreCount = 0;
  private failing = false;
  /** After a failed unacked record: no BRPOP before this (ms), so a broken Redis is not spun on. */
  private pauseUntil = 0;

  constructor(private readonly init: RedisConsumerInit) {
    this.cycle = new QueueCycle(init.strategy, init.queues);
    this.prefetch = init.opts.prefetch ?? 0;
    this.blocking = init.newClient();
    const k = init.keys;
    this.qos = new RedisQos(
      init.client,
      init.lookup,
      init.clock,
      { unacked: k.unacked, unackedIndex: k.unackedIndex, unackedMutex: k.unackedMutex },
      (q, pri) => k.queueKey(q, pri),
    );
  }

  /** The queues consumed now (add_consumer/cancel_consumer change it). */
  get queues(): readonly string[] {
    return this.cycle.names();
  }

  /**
   * `add_consumer`: the next BRPOP includes the queue (kombu `basic_consume` →
   * `_update_queue_cycle`); the BRPOP pending now ends within `brpop_timeout`.
   */
  addQueue(queue: string): Promise<void> {
    this.cycle.add(queue);
    return Promise.resolve();
  }

  /**
   * `cancel_consumer`: the queue leaves the BRPOP key set; a message the pending BRPOP still
   * takes from it is pushed back (served next). Held deliveries are untouched.
   */
  cancelQueue(queue: string): Promise<void> {
    this.cycle.remove(queue);
    return Promise.resolve();
  }

  start(): void {
    this.loop = this.run();
    if (this.init.restoreIntervalMs > 0) {
      this.maybeRestoreVisible();
      this.restoreTimer = setInterval(() => {
        this.maybeRestoreVisible();
      }, this.init.restoreIntervalMs);
      this.restoreTimer.unref();
    }
  }

  /**
   * `Transport.maybe_restore_messages` → `QoS.restore_visible(num=unacked_restore_limit,
   * interval=unacked_restore_throttle)`: only every Nth call scans (the first included).
   */
  private maybeRestoreVisible(): void {
    if (this.restoreCount++ % Math.max(1, this.init.restoreThrottle) !== 0) return;
    restoreVisible({
      client: this.init.client,
      keys: this.qos.keys,
      clock: this.init.clock,
      visibilityTimeout: this.init.visibilityTimeout,
      mutexExpire: this.init.unackedMutexExpire,
      limit: this.init.restoreLimit,
      token: this.init.uuid().replace(/-/g, ''),
      restoreByTag: (tag) => this.qos.restoreByTag(tag, false),
    }).catch((e: unknown) => this.init.opts.onError?.(toRedisError(e, 'restore_visible')));
  }

  /** BRPOP keys in kombu's order: for each priority step, every queue of the cycle. */
  brpopKeys(): string[] {
    return this.init.keys.brpopKeys(this.cycle.consume());
  }

  private async waitForCapacity(): Promise<void> {
    while (this.running && this.prefetch > 0 && this.inflight >= this.prefetch) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /** kombu's virtual QoS reads `prefetch_count` on every `can_consume()`: takes effect at once. */
  setPrefetch(prefetch: number): Promise<void> {
    this.prefetch = prefetch;
    this.poke();
    return Promise.resolve();
  }

  private poke(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private release(n = 1): void {
    this.inflight -= n;
    this.poke();
  }

  /** A method, so that TypeScript does not narrow `running` across awaits. */
  private isRunning(): boolean {
    return this.running;
  }

  private async run(): Promise<void> {
    while (this.isRunning()) {
      await this.waitForCapacity();
      if (!this.isRunning()) break;
      const pause = this.pauseUntil - Date.now();
      if (pause > 0) await sleep(pause);
      const keys = this.brpopKeys();
      if (keys.length === 0) {
        await sleep(this.init.brpopTimeout * 1000); // every queue cancelled: idle like kombu
        continue;
      }
      // While messages wait, take them with the atomic pop-and-record script; only an empty
      // fetch falls back to BRPOP, which blocks until one arrives (see redis-fetch-script.ts).
      let fetched: FetchedMessage[];
      let popped: [string, string] | null = null;
      try {
        fetched = await this.fetch(keys);
        if (fetched.length === 0)
          popped = await this.blocking.brpop(...keys, this.init.brpopTimeout);
        this.failing = false;
      } catch (e) {
        if (!this.isRunning()) break;
        if (e instanceof Error && e.name === 'ReplyError') {
          // The script could not record (ACL, OOM…): nothing was popped; do not spin on it.
          this.init.opts.onError?.(toRedisError(e, 'recording unacked delivery (nothing taken)'));
          this.pauseUntil = Date.now() + 500;
          continue;
        }
        // One report per outage; the broker's status stream tells the rest.
        if (!this.failing) this.init.opts.onError?.(toRedisError(e, 'BRPOP'));
        this.failing = true;
        await sleep(250);
        continue;
      }
      if (fetched.length > 0) {
        await this.takeFetched(fetched);
        if (!this.isRunning()) break;
        continue;
      }
      if (popped === null) continue;
      const [key, text] = popped;
      const queue = this.init.keys.queueOfKey(key);
      if (!this.isRunning() || !this.cycle.has(queue)) {
        // Cancelled (or the queue was) while BRPOP was pending: back where it is served next.
        await this.putBack(key, [text]);
        if (!this.isRunning()) break;
        continue;
      }
      this.cycle.rotate(queue);
      // Reserve the prefetch room now; record + hand out without holding up the next fetch.
      this.inflight += 1;
      void this.deliverBatch(key, queue, [text]);
    }
  }

  /** Up to the free prefetch room (or a batch) via the script, in BRPOP key order. */
  private async fetch(keys: readonly string[]): Promise<FetchedMessage[]> {
    const room = this.prefetch > 0 ? this.prefetch - this.inflight : MAX_BATCH;
    if (room <= 0) return [];
    const q = this.qos.keys;
    const reply = await evalScript(
      this.blocking,
      [q.unacked, q.unackedIndex, ...keys],
      [String(Math.min(room, MAX_BATCH)), String(this.init.clock.now() / 1000)],
    );
    return parseFetchReply(reply);
  }

  /** Hand out what the script popped: recorded ones at once, others through `deliverBatch`. */
  private async takeFetched(fetched: readonly FetchedMessage[]): Promise<void> {
    const byKey = new Map<string, FetchedMessage[]>();
    for (const m of fetched) {
      const list = byKey.get(m.key) ?? [];
      list.push(m);
      byKey.set(m.key, list);
    }
    for (const [key, msgs] of byKey) {
      const queue = this.init.keys.queueOfKey(key);
      if (!this.isRunning() || !this.cycle.has(queue)) {
        const texts = msgs.map((m) => m.text);
        await this.putBack(key, texts, recordedTags(msgs, this.init.decode));
        continue;
      }
      this.cycle.rotate(queue);
      this.inflight += msgs.length;
      const plain = msgs.filter((m) => !m.recorded).map((m) => m.text);
      for (const m of msgs) {
        if (!m.recorded) continue;
        let env: RedisEnvelope;
        try {
          env = this.init.decode(m.text);
        } catch (e) {
          // The script read it, we cannot: reported and dropped, as `deliverBatch` does.
          this.release();
          this.init.opts.onError?.(
            new BrokerError(`undecodable message on ${queue}`, { cause: e }),
          );
          continue;
        }
        this.qos.delivered.add(env.deliveryTag);
        this.deliver(queue, env);
      }
      if (plain.length > 0) void this.deliverBatch(key, queue, plain);
    }
  }

  /**
   * RPUSH popped messages back to the tail of their list (served next, original order), and
   * drop any unacked entry a half-applied `QoS.append` left, in one MULTI. Retried until it
   * succeeds: the message exists only in this process now.
   */
  private async putBack(key: string, texts: readonly string[], tags: readonly string[] = []) {
    for (let attempt = 0; ; attempt++) {
      try {
        const tx = this.init.client.multi().rpush(key, ...[...texts].reverse());
        if (tags.length > 0) {
          tx.zrem(this.qos.keys.unackedIndex, ...tags).hdel(this.qos.keys.unacked, ...tags);
        }
        await tx.exec();
        return;
      } catch (e) {
        if (attempt === 0) this.init.opts.onError?.(toRedisError(e, `putting back to ${key}`));
        await sleep(Math.min(200 * (attempt + 1), 2000));
      }
    }
  }

  /**
   * Decode, record all as unacked in one MULTI (`QoS.append` each), then hand them out. If the
   * record fails the messages are not delivered (nothing could restore them after a crash):
   * they go back to the list they came from.
   */
  private async deliverBatch(key: string, queue: string, texts: readonly string[]): Promise<void> {
    const envs: [RedisEnvelope, string][] = [];
    for (const text of texts) {
      try {
        envs.push([this.init.decode(text), text]);
      } catch (e) {
        // kombu would raise in `_brpop_read` and lose the message the same way; we report it.
        this.release();
        this.init.opts.onError?.(new BrokerError(`undecodable message on ${queue}`, { cause: e }));
      }
    }
    try {
      await this.qos.appendMany(
        envs.map(([env, text]) => ({
          tag: env.deliveryTag,
          envelopeText: text,
          exchange: env.deliveryInfo.exchange,
          routingKey: env.deliveryInfo.routing_key,
        })),
      );
    } catch (e) {
      this.init.opts.onError?.(
        toRedisError(e, `recording unacked delivery (${String(envs.length)} put back)`),
      );
      this.pauseUntil = Date.now() + 500;
      await this.putBack(
        key,
        envs.map(([, t]) => t),
        envs.map(([env]) => env.deliveryTag),
      );
      this.release(envs.length);
      return;
    }
    for (const [env] of envs) this.deliver(queue, env);
  }

  private deliver(queue: string, env: RedisEnvelope): void {
    const tag = env.deliveryTag;
    let settled = false;
    const settle = async (fn: () => Promise<void>): Promise<void> => {
      if (settled) throw new BrokerError('delivery already acknowledged');
      settled = true;
      try {
        await fn();
      } catch (e) {
        throw toRedisError(e, 'ack/reject');
      } finally {
        this.release();
      }
    };
    const redelivered =
      env.deliveryInfo.redelivered === true || env.message.headers.redelivered === true;
    const delivery: RedisDelivery = {
      message: env.message,
      deliveryInfo: env.deliveryInfo,
      deliveryTag: tag,
      redelivered,
      queue,
      session: 0,
      isVoid: false,
      ack: () => settle(() => this.qos.ack(tag)),
      reject: (requeue) => settle(() => (requeue ? this.qos.requeue(tag) : this.qos.ack(tag))),
    };
    Promise.resolve()
      .then(() => this.init.handler(delivery))
      .catch((e: unknown) =>
        this.init.opts.onError?.(e instanceof Error ? e : new Error(String(e))),
      );
  }

  /** Stop the loop, then RPUSH every unacked delivery back (`QoS.restore_unacked_once`). */
  async cancel(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.restoreTimer) clearInterval(this.restoreTimer);
    this.poke();
    // Let a pending BRPOP finish (≤ brpopTimeout) rather than cut it: a reply already sent by
    // Redis would be lost (kombu drains it too, `Channel.close` → `_brpop_read`).
    await this.loop?.catch(() => undefined);
    await dropClient(this.blocking);
    try {
      await this.qos.restoreUnacked();
    } finally {
      this.init.onDone(this);
    }
  }
}

/** Delivery tags of the recorded messages (their `unacked` entries go when they are put back). */
function recordedTags(
  msgs: readonly FetchedMessage[],
  decode: (text: string) => RedisEnvelope,
): string[] {
  const tags: string[] = [];
  for (const m of msgs) {
    if (!m.recorded) continue;
    try {
      tags.push(decode(m.text).deliveryTag);
    } catch {
      // Unreadable here although the script read its tag: its entry is restored later.
    }
  }
  return tags;
}
