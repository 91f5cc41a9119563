import type { Redis } from 'ioredis';
import type { Clock } from '../../util/clock';
import type { QosKeys } from './redis-qos';

/** redis-py `Lock.LUA_RELEASE_SCRIPT`: delete the lock only if we still own it. */
const RELEASE_LUA = `local token = redis.call('get', KEYS[1])
if not token or token ~= ARGV[1] then
    return 0
end
redis.call('del', KEYS[1])
return 1`;

/** Options of {@link restoreVisible}. */
export interface RestoreVisibleOptions {
  client: Redis;
  keys: QosKeys;
  clock: Clock;
  /** Transport option `visibility_timeout` (seconds, kombu default 3600). */
  visibilityTimeout: number;
  /** Transport option `unacked_mutex_expire` (seconds, kombu default 300). */
  mutexExpire: number;
  /** Transport option `unacked_restore_limit` (kombu default None: no LIMIT). */
  limit?: number | null;
  /** redis-py uses `uuid1().hex`; any unique token works for the owner check. */
  token: string;
  /** `restore_by_tag(tag, client)`: RPUSH back with the redelivered flag. */
  restoreByTag: (tag: string) => Promise<void>;
}

/**
 * kombu's `QoS.restore_visible` (`kombu/transport/redis.py`): under the `unacked_mutex` lock
 * (kombu `Mutex` = redis-py `Lock.acquire(blocking=False)`, i.e. `SET key token NX PX <ms>`),
 * every unacked delivery older than `visibility_timeout` is restored to its queue. Python workers
 * and we take the same lock, so a message is restored once. Returns how many were restored, or
 * `null` when another process held the mutex (`MutexHeld`).
 */
export async function restoreVisible(o: RestoreVisibleOptions): Promise<number | null> {
  const { client, keys } = o;
  const got = await client.set(
    keys.unackedMutex,
    o.token,
    'PX',
    Math.trunc(o.mutexExpire * 1000),
    'NX',
  );
  if (got !== 'OK') return null;
  try {
    const ceil = o.clock.now() / 1000 - o.visibilityTimeout;
    // `unacked_restore_limit` is None by default: no LIMIT clause (`offset=num and start`).
    const tags =
      o.limit === undefined || o.limit === null || o.limit === 0
        ? await client.zrevrangebyscore(keys.unackedIndex, ceil, 0)
        : await client.zrevrangebyscore(keys.unackedIndex, ceil, 0, 'LIMIT', 0, o.limit);
    for (const tag of tags) await o.restoreByTag(tag);
    return tags.length;
  } finally {
    // `LockNotOwnedError` (lock expired meanwhile) is ignored by kombu; the script returns 0.
    await client.eval(RELEASE_LUA, 1, keys.unackedMutex, o.token);
  }
}
