import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisBackend } from './redis-backend';

/**
 * Issue 14 item 5: result subscriptions for results that never arrive are released — after the
 * idle time for un-awaited sends, on a wait's timeout, on forget, on close. Counted as the
 * channels under a private key prefix on DB 4 (the shared server has other subscribers).
 */
const URL = 'redis://127.0.0.1:6379/4';

describe('Redis result subscriptions are bounded', () => {
  const admin = new Redis(URL);
  afterAll(() => {
    admin.disconnect();
  });
  const count = async (prefix: string): Promise<number> =>
    ((await admin.call('PUBSUB', 'CHANNELS', `${prefix}*`)) as string[]).length;
  const until = async (cond: () => Promise<boolean>, ms = 20_000): Promise<void> => {
    const end = Date.now() + ms;
    while (!(await cond())) {
      if (Date.now() > end) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  it('10k un-awaited sends: NUMSUB back to zero after the idle time', async () => {
    const prefix = `cw-sub-${randomUUID().slice(0, 8)}:`;
    const backend = new RedisBackend({
      url: URL,
      transportOptions: { global_keyprefix: prefix },
      subscriptionIdleMs: 1500,
    });
    const ids = Array.from({ length: 10_000 }, () => randomUUID());
    await Promise.all(ids.map((id) => backend.onTaskCall(id)));
    expect(await count(prefix)).toBe(10_000);
    const sample = ids.slice(0, 50).map((id) => `${prefix}celery-task-meta-${id}`);
    const numsub = (await admin.call('PUBSUB', 'NUMSUB', ...sample)) as (string | number)[];
    expect(numsub.filter((_, i) => i % 2 === 1).every((n) => Number(n) === 1)).toBe(true);
    await until(async () => (await count(prefix)) === 0);
    expect(backend.subscribedChannels()).toEqual([]);
    await backend.close();
  }, 60_000);

  it('a wait that times out, forget and close release theirs', async () => {
    const prefix = `cw-sub-${randomUUID().slice(0, 8)}:`;
    const backend = new RedisBackend({ url: URL, transportOptions: { global_keyprefix: prefix } });
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    await expect(backend.waitForResult(a, { timeoutMs: 300 })).rejects.toThrow(/timed out/);
    await until(async () => (await count(prefix)) === 0);
    await backend.onTaskCall(b);
    await backend.onTaskCall(c);
    expect(await count(prefix)).toBe(2);
    await backend.forget(b);
    await until(async () => (await count(prefix)) === 1);
    await backend.close();
    await until(async () => (await count(prefix)) === 0);
  }, 30_000);
});
