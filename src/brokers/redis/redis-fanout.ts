import type { Redis } from 'ioredis';
import { BrokerError } from '../../errors/errors';
import { decodeRedisEnvelope } from '../../protocol/redis-envelope';
import type { Subscription } from '../broker';
import type { FanoutMessage } from '../fanout';
import { toRedisError } from './redis-qos';
import { closeClient, dropClient } from './close-client';

/**
 * One fanout-bound queue on kombu's Redis transport: a PSUBSCRIBE on the publish channel pattern
 * (`kombu/transport/redis.py`, `Channel._subscribe`, `_get_subscribe_topic`: the binding routing
 * key with `#` → `*`). Delivery is at-most-once, with no ack emulation (`no_ack=True`).
 */
export class RedisFanoutSubscriber implements Subscription {
  private cancelled = false;
  /** Compat mode: tags seen lately (`SentinelChannel._fanout_compat_dedup_size` = 1000). */
  private readonly seen = new Set<string>();

  constructor(
    private readonly client: Redis,
    private readonly patterns: readonly string[],
    private readonly handler: (m: FanoutMessage) => void,
    private readonly onError: ((err: Error) => void) | undefined,
  ) {}

  /** Connect the dedicated subscriber connection and PSUBSCRIBE. */
  async start(): Promise<void> {
    this.client.on('pmessage', (_pattern: string, channel: string, text: string) => {
      this.receive(channel, text);
    });
    try {
      await this.client.connect();
      await this.client.psubscribe(...this.patterns);
    } catch (e) {
      await dropClient(this.client);
      throw toRedisError(e, `PSUBSCRIBE ${this.patterns.join(' ')}`);
    }
  }

  private receive(channel: string, text: string): void {
    if (this.cancelled) return;
    try {
      const env = decodeRedisEnvelope(text);
      if (this.patterns.length > 1) {
        // Published on both topics (kombu 5.7 `sentinel_fanout_compat`): deliver once.
        if (this.seen.has(env.deliveryTag)) return;
        this.seen.add(env.deliveryTag);
        if (this.seen.size > 1000) {
          const oldest = this.seen.values().next();
          if (oldest.done !== true) this.seen.delete(oldest.value);
        }
      }
      this.handler({ message: env.message, deliveryInfo: env.deliveryInfo });
    } catch (e) {
      this.onError?.(new BrokerError(`bad fanout message on ${channel}`, { cause: e }));
    }
  }

  async cancel(): Promise<void> {
    if (this.cancelled) return;
    this.cancelled = true;
    await closeClient(this.client);
  }
}
