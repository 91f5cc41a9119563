import type { Redis } from 'ioredis';
import { BrokerError } from '../../errors/errors';
import { toRedisError } from './redis-qos';
import type { RedisTransportOptions } from './transport-options';

/**
 * Transport option `publish_wait_replicas` (celery-wire only; kombu has no such option and
 * ignores it). Redis replicates asynchronously: a publish the master acknowledged can be missing
 * on the replica Sentinel promotes if the master dies first. `WAIT` covers every earlier write of
 * the connection, so one `WAIT <n> <publish_wait_timeout·1000>` after a publish batch makes the
 * whole batch durable on `n` replicas, or the publish is rejected (docs/redis-estates.md,
 * "Failover and replication").
 */
export async function waitForReplicas(client: Redis, t: RedisTransportOptions): Promise<void> {
  const want = t.publish_wait_replicas;
  if (want === undefined) return;
  const ms = Math.round((t.publish_wait_timeout ?? 1) * 1000);
  let got: unknown;
  try {
    got = await client.call('WAIT', String(want), String(ms));
  } catch (e) {
    throw toRedisError(e, 'publish: WAIT');
  }
  if (typeof got !== 'number' || got < want) {
    throw new BrokerError(
      `publish not acknowledged by ${String(want)} replica(s) within ${String(ms)} ms ` +
        `(WAIT replied ${String(got)}; transport option publish_wait_replicas): ` +
        'the message is on the master but may not survive a failover',
    );
  }
}
