import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { fixedClock } from '../../util/clock';
import { RedisQos, type QosKeys } from './redis-qos';
import { restoreVisible } from './redis-visibility';

const URL = process.env.WORKER_TEST_REDIS_RESTORE ?? 'redis://127.0.0.1:6379/11';

/** kombu `QoS.restore_visible` under redis-py's `Lock` (SET NX PX + token, Lua release). */
describe('restore_visible with the unacked_mutex', () => {
  const client = new Redis(URL);
  const id = randomUUID().slice(0, 8);
  // Transport options unacked_key/unacked_index_key/unacked_mutex_key: isolated from other suites.
  const keys: QosKeys = { unacked: `u-${id}`, unackedIndex: `ui-${id}`, unackedMutex: `um-${id}` };
  const queue = `q-${id}`;
  afterAll(async () => {
    await client.del(keys.unacked, keys.unackedIndex, keys.unackedMutex, queue);
    client.disconnect();
  });

  it('skips while another process holds the mutex, then restores with RPUSH + redelivered', async () => {
    const t0 = 1_700_000_000_000;
    const qos = new RedisQos(client, (_ex, rk) => Promise.resolve([rk]), fixedClock(t0), keys);
    const env = `{"body": "e30=", "content-encoding": "utf-8", "content-type": "application/json", "headers": {}, "properties": {"delivery_info": {"exchange": "", "routing_key": "${queue}"}, "delivery_tag": "tag-1", "body_encoding": "base64", "priority": 0}}`;
    await qos.append('tag-1', env, '', queue);
    const run = (token: string) =>
      restoreVisible({
        client,
        keys,
        clock: fixedClock(t0 + 5000),
        visibilityTimeout: 1,
        mutexExpire: 300,
        token,
        restoreByTag: (tag) => qos.restoreByTag(tag, false),
      });
    await client.set(keys.unackedMutex, 'python-worker-token', 'PX', 300_000, 'NX');
    expect(await run('ours')).toBeNull(); // MutexHeld
    expect(await client.hexists(keys.unacked, 'tag-1')).toBe(1);
    expect(await client.get(keys.unackedMutex)).toBe('python-worker-token'); // not ours to release
    await client.del(keys.unackedMutex);
    expect(await run('ours')).toBe(1);
    expect(await client.hexists(keys.unacked, 'tag-1')).toBe(0);
    expect(await client.zscore(keys.unackedIndex, 'tag-1')).toBeNull();
    const back = await client.lrange(queue, 0, -1);
    expect(back).toHaveLength(1);
    expect(back[0]).toContain('"redelivered": true');
    expect(await client.exists(keys.unackedMutex)).toBe(0); // released by the Lua script
  });
});
