import type { Redis } from 'ioredis';
import { parseUnackedValue, unackedValue } from '../../protocol/redis-unacked';
import { BrokerConnectionError, BrokerError, isCeleryError } from '../../errors/errors';
import { markRedelivered } from '../../protocol/redis-envelope';
import { clampPriority, priorityQueueKey } from '../../protocol/redis-keys';
import { pyJsonLoads } from '../../serialization/python-json';
import { isPyDict } from '../../serialization/py-values';
import type { Clock } from '../../util/clock';

/** Wrap an ioredis failure. */
export function toRedisError(e: unknown, what: string): BrokerError {
  if (isCeleryError(e) && e instanceof BrokerError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  const isReply = e instanceof Error && e.name === 'ReplyError';
  return isReply
    ? new BrokerError(`${what}: ${msg}`, { cause: e })
    : new BrokerConnectionError(`${what}: ${msg}`, { cause: e });
}

/** Key names of kombu's ack emulation (`kombu/transport/redis.py`, `Channel.unacked_key` …). */
export interface QosKeys {
  unacked: string;
  unackedIndex: string;
  unackedMutex: string;
}

export const DEFAULT_QOS_KEYS: QosKeys = {
  unacked: 'unacked',
  unackedIndex: 'unacked_index',
  unackedMutex: 'unacked_mutex',
};

/** Resolve the queues a restored message goes back to (`Channel._lookup`). */
export type RestoreLookup = (exchange: string, routingKey: string) => Promise<string[]>;

function envelopePriorityOf(envelopeText: string): number {
  const env = pyJsonLoads(envelopeText);
  if (!isPyDict(env) || !isPyDict(env.properties)) return 0;
  return clampPriority(env.properties.priority);
}

/**
 * kombu's Redis `QoS` (ack emulation), one instance per consumer. Every multi-command step is a
 * MULTI/EXEC exactly as redis-py's `pipeline()` sends it.
 */
export class RedisQos {
  /** Tags delivered to this consumer and not yet acked (`QoS._delivered`). */
  readonly delivered = new Set<string>();
  private restoring: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: Redis,
    private readonly lookup: RestoreLookup,
    private readonly clock: Clock,
    readonly keys: QosKeys = DEFAULT_QOS_KEYS,
    /** `_q_for_pri` under the transport options (prefix, `sep`, `priority_steps`). */
    private readonly queueKey: (queue: string, priority: number) => string = priorityQueueKey,
  ) {}

  /** `QoS.append`: MULTI; ZADD unacked_index <now> <tag>; HSET unacked <tag> <value>; EXEC. */
  async append(
    tag: string,
    envelopeText: string,
    exchange: string,
    routingKey: string,
  ): Promise<void> {
    await this.client
      .multi()
      .zadd(this.keys.unackedIndex, this.clock.now() / 1000, tag)
      .hset(this.keys.unacked, tag, unackedValue(envelopeText, exchange, routingKey))
      .exec();
    this.delivered.add(tag);
  }

  /** `QoS.append` for a batch of deliveries: one MULTI with a ZADD + HSET per delivery. */
  async appendMany(
    items: readonly { tag: string; envelopeText: string; exchange: string; routingKey: string }[],
  ): Promise<void> {
    if (items.length === 0) return;
    const tx = this.client.multi();
    const now = this.clock.now() / 1000;
    for (const it of items) {
      tx.zadd(this.keys.unackedIndex, now, it.tag);
      tx.hset(this.keys.unacked, it.tag, unackedValue(it.envelopeText, it.exchange, it.routingKey));
    }
    await tx.exec();
    for (const it of items) this.delivered.add(it.tag);
  }

  private ackQueue: { tag: string; done: () => void; fail: (e: unknown) => void }[] = [];

  /**
   * `QoS.ack` (and `reject(requeue=False)`): MULTI; ZREM; HDEL; EXEC. Acks issued in the same
   * event-loop turn share one MULTI (same keys, same end state, far fewer round trips).
   */
  ack(tag: string): Promise<void> {
    return new Promise<void>((done, fail) => {
      this.ackQueue.push({ tag, done, fail });
      if (this.ackQueue.length === 1) setImmediate(() => void this.flushAcks());
    });
  }

  private async flushAcks(): Promise<void> {
    const batch = this.ackQueue;
    this.ackQueue = [];
    const tags = batch.map((b) => b.tag);
    try {
      await this.client
        .multi()
        .zrem(this.keys.unackedIndex, ...tags)
        .hdel(this.keys.unacked, ...tags)
        .exec();
      for (const t of tags) this.delivered.delete(t);
      for (const b of batch) b.done();
    } catch (e) {
      for (const b of batch) b.fail(e);
    }
  }

  /** `QoS.reject(requeue=True)` → `restore_by_tag(leftmost=True)`: back to the FIFO's tail. */
  async requeue(tag: string): Promise<void> {
    await this.restoreByTag(tag, true);
    this.delivered.delete(tag);
  }

  /**
   * `QoS.restore_by_tag`: WATCH unacked; HGET; MULTI; ZREM; HDEL; [L|R]PUSH marked envelope; EXEC,
   * retried when the watch fires (redis-py `Redis.transaction`). `leftmost` LPUSHes (consumed
   * last); otherwise RPUSH (consumed next), as `restore_unacked` and visibility restores do.
   */
  restoreByTag(tag: string, leftmost: boolean, client: Redis = this.client): Promise<void> {
    // WATCH is per connection: serialize restores so one EXEC cannot clear another's WATCH.
    const run = this.restoring.then(() => this.restoreOnce(tag, leftmost, client));
    this.restoring = run.catch(() => undefined);
    return run;
  }

  private async restoreOnce(tag: string, leftmost: boolean, client: Redis): Promise<void> {
    for (;;) {
      await client.watch(this.keys.unacked);
      const raw = await client.hget(this.keys.unacked, tag);
      const tx = client.multi().zrem(this.keys.unackedIndex, tag).hdel(this.keys.unacked, tag);
      if (raw !== null) {
        const { envelope, exchange, routingKey } = parseUnackedValue(raw);
        const marked = markRedelivered(envelope);
        const pri = envelopePriorityOf(marked);
        for (const q of await this.lookup(exchange, routingKey)) {
          const key = this.queueKey(q, pri);
          if (leftmost) tx.lpush(key, marked);
          else tx.rpush(key, marked);
        }
      }
      const res = await tx.exec();
      if (res !== null) return; // null: WATCH fired, try again
    }
  }

  /** `QoS.restore_unacked` (channel close): every delivered, unacked tag RPUSHed back. */
  async restoreUnacked(): Promise<void> {
    for (const tag of [...this.delivered]) {
      await this.restoreByTag(tag, false);
      this.delivered.delete(tag);
    }
  }
}
