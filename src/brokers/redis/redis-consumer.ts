import type { Redis } from 'ioredis';
import { BrokerError } from '../../errors/errors';
import type { RedisEnvelope } from '../../protocol/redis-envelope';
import { PRIORITY_STEPS, priorityQueueKey } from '../../protocol/redis-keys';
import type { Clock } from '../../util/clock';
import type { ConsumeOptions, Consumer, Delivery, DeliveryHandler } from '../broker';
import type { RedisBroker } from './redis-broker';
import { RedisQos, toRedisError } from './redis-qos';
import { queueOfKey } from './routing';

interface RedisConsumerInit {
  broker: RedisBroker;
  client: Redis;
  queues: readonly string[];
  handler: DeliveryHandler;
  opts: ConsumeOptions;
  clock: Clock;
  brpopTimeout: number;
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

  constructor(private readonly init: RedisConsumerInit) {
    this.cycle = [...init.queues];
    // BRPOP blocks its connection; commands (ack, MULTI) go through the shared client.
    this.blocking = init.broker.newClient();
    this.qos = new RedisQos(init.client, (ex, rk) => init.broker.lookup(ex, rk), init.clock);
  }

  private isRunning(): boolean {
    return this.running;
  }

  start(): void {
    this.loop = this.run();
  }

  /** BRPOP keys in kombu's order: for each priority step, every queue of the cycle. */
  brpopKeys(): string[] {
    return PRIORITY_STEPS.flatMap((step) => this.cycle.map((q) => priorityQueueKey(q, step)));
  }

  private async waitForCapacity(): Promise<void> {
    const prefetch = this.init.opts.prefetch ?? 0;
    while (this.isRunning() && prefetch > 0 && this.inflight >= prefetch) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
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
      await this.deliver(queue, text);
    }
  }

  private async deliver(queue: string, text: string): Promise<void> {
    let env: RedisEnvelope;
    try {
      env = this.init.decode(text);
    } catch (e) {
      // kombu would raise in `_brpop_read` and lose the message the same way; we report it.
      this.init.opts.onError?.(new BrokerError(`undecodable message on ${queue}`, { cause: e }));
      return;
    }
    const tag = env.deliveryTag;
    try {
      await this.qos.append(tag, text, env.deliveryInfo.exchange, env.deliveryInfo.routing_key);
    } catch (e) {
      this.init.opts.onError?.(toRedisError(e, 'recording unacked delivery'));
    }
    this.inflight++;
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
