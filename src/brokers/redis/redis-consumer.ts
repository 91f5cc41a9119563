import type { Redis } from 'ioredis';
import { BrokerError } from '../../errors/errors';
import type { RedisEnvelope } from '../../protocol/redis-envelope';
import { PRIORITY_STEPS, priorityQueueKey } from '../../protocol/redis-keys';
import type { Clock } from '../../util/clock';
import type { ConsumeOptions, Consumer, Delivery, DeliveryHandler } from '../broker';
import type { RedisBroker } from './redis-broker';
import { RedisQos, toRedisError } from './redis-qos';
import { queueOfKey } from './routing';
import { restoreVisible } from './redis-visibility';

/** Upper bound of one BRPOP + RPOP batch when prefetch is unlimited. */
const MAX_BATCH = 128;

interface RedisConsumerInit {
  broker: RedisBroker;
  client: Redis;
  queues: readonly string[];
  handler: DeliveryHandler;
  opts: ConsumeOptions;
  clock: Clock;
  brpopTimeout: number;
  visibilityTimeout: number;
  unackedMutexExpire: number;
  restoreIntervalMs: number;
  uuid: () => string;
  decode: (text: string) => RedisEnvelope;
  onDone: (c: RedisConsumer) => void;
}

/**
 * One BRPOP loop over several queues, as kombu's `Channel._brpop_start`/`_brpop_read`: keys are
 * ordered priority step first, then queues in round-robin order, and the queue that delivered is
 * rotated to the end (`_queue_cycle.rotate`). Prefetch is enforced here, client-side, like
 * kombu's `QoS.can_consume`.
 */
export class RedisConsumer implements Consumer {
  private readonly qos: RedisQos;
  private readonly blocking: Redis;
  private cycle: string[];
  private running = true;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private inflight = 0;
  private prefetch: number;
  private restoreTimer: NodeJS.Timeout | undefined;
  private restoreCount = 0;

  constructor(private readonly init: RedisConsumerInit) {
    this.cycle = [...init.queues];
    this.prefetch = init.opts.prefetch ?? 0;
    // BRPOP blocks its connection; commands (ack, MULTI) go through the shared client.
    this.blocking = init.broker.newClient();
    this.qos = new RedisQos(init.client, (ex, rk) => init.broker.lookup(ex, rk), init.clock);
  }

  private isRunning(): boolean {
    return this.running;
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
   * `Transport.maybe_restore_messages` → `QoS.restore_visible(interval=10)`: only every 10th
   * call does the work (the first one included, as `on_poll_init` does at start).
   */
  private maybeRestoreVisible(): void {
    if (this.restoreCount++ % 10 !== 0) return;
    restoreVisible({
      client: this.init.client,
      keys: this.qos.keys,
      clock: this.init.clock,
      visibilityTimeout: this.init.visibilityTimeout,
      mutexExpire: this.init.unackedMutexExpire,
      token: this.init.uuid().replace(/-/g, ''),
      restoreByTag: (tag) => this.qos.restoreByTag(tag, false),
    }).catch((e: unknown) => this.init.opts.onError?.(toRedisError(e, 'restore_visible')));
  }

  /** BRPOP keys in kombu's order: for each priority step, every queue of the cycle. */
  brpopKeys(): string[] {
    return PRIORITY_STEPS.flatMap((step) => this.cycle.map((q) => priorityQueueKey(q, step)));
  }

  private async waitForCapacity(): Promise<void> {
    while (this.isRunning() && this.prefetch > 0 && this.inflight >= this.prefetch) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /** kombu's virtual QoS reads `prefetch_count` on every `can_consume()`: takes effect at once. */
  setPrefetch(prefetch: number): Promise<void> {
    this.prefetch = prefetch;
    const w = this.wake;
    this.wake = undefined;
    w?.();
    return Promise.resolve();
  }

  private release(): void {
    this.inflight--;
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private async run(): Promise<void> {
    while (this.running) {
      await this.waitForCapacity();
      if (!this.isRunning()) break;
      let popped: [string, string] | null;
      try {
        popped = await this.blocking.brpop(...this.brpopKeys(), this.init.brpopTimeout);
      } catch (e) {
        if (!this.isRunning()) break;
        this.init.opts.onError?.(toRedisError(e, 'BRPOP'));
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      if (popped === null) continue;
      const [key, text] = popped;
      if (!this.isRunning()) {
        // Cancelled while BRPOP was pending: put it back where it is served next.
        await this.init.client.rpush(key, text);
        break;
      }
      const queue = queueOfKey(key);
      this.cycle = [...this.cycle.filter((q) => q !== queue), queue];
      const texts = [text, ...(await this.drainMore(key))];
      if (!this.isRunning()) {
        // Cancelled meanwhile: back to the tail in their original order (served next).
        await this.init.client.rpush(key, ...texts.reverse());
        break;
      }
      // Reserve the prefetch room now; record + hand out without holding up the next fetch.
      this.inflight += texts.length;
      void this.deliverBatch(queue, texts);
    }
  }

  /**
   * Throughput: after a BRPOP hit, take up to the free prefetch room more from the same list
   * with one `RPOP key count` (Redis ≥ 6.2) instead of one BRPOP round trip each. The order is
   * the order BRPOP would have served them from that key; prefetch is still never exceeded.
   */
  private async drainMore(key: string): Promise<string[]> {
    const room = this.prefetch > 0 ? this.prefetch - this.inflight - 1 : MAX_BATCH - 1;
    if (room <= 0) return [];
    try {
      return (await this.blocking.rpop(key, Math.min(room, MAX_BATCH - 1))) ?? [];
    } catch {
      return []; // Redis < 6.2 has no count argument: plain BRPOP pacing.
    }
  }

  /** Decode, record all as unacked in one MULTI (`QoS.append` each), then hand them out. */
  private async deliverBatch(queue: string, texts: readonly string[]): Promise<void> {
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
      this.init.opts.onError?.(toRedisError(e, 'recording unacked delivery'));
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
    const delivery: Delivery = {
      message: env.message,
      deliveryInfo: env.deliveryInfo,
      deliveryTag: tag,
      redelivered,
      queue,
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
    const w = this.wake;
    this.wake = undefined;
    w?.();
    // Let a pending BRPOP finish (≤ brpopTimeout) rather than cut it: a reply already sent by
    // Redis would be lost (kombu drains it too, `Channel.close` → `_brpop_read`).
    await this.loop?.catch(() => undefined);
    this.blocking.disconnect();
    try {
      await this.qos.restoreUnacked();
    } finally {
      this.init.onDone(this);
    }
  }
}
