import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { startPrivateRedis, type PrivateRedis } from '../../../test/integration/redis-private';
import type { RawMessage } from '../../protocol/raw-message';
import type { Delivery } from '../broker';
import { RedisBroker } from './redis-broker';

/**
 * Issue 8 on the Redis consumer: add_consumer/cancel_consumer change the BRPOP key set of the
 * running consumer without handing back held deliveries; a failed unacked record (`QoS.append`)
 * puts the messages back instead of delivering them. A private redis-server (ACLs are changed).
 */
const raw = (id: string): RawMessage => ({
  headers: { id, task: 't' },
  properties: {
    correlation_id: id,
    delivery_mode: 2,
    priority: 0,
  },
  contentType: 'application/json',
  contentEncoding: 'utf-8',
  body: new TextEncoder().encode('[[], {}, {}]'),
});

const until = async (cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('RedisConsumer (issue 8)', () => {
  let redis: PrivateRedis;
  let admin: Redis;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    admin = new Redis(redis.port, '127.0.0.1');
  });
  afterAll(() => {
    admin.disconnect();
    redis.destroy();
  });

  it('addQueue/cancelQueue keep held deliveries; a cancelled queue is no longer read', async () => {
    const q1 = `cw-q1-${randomUUID().slice(0, 6)}`;
    const q2 = `cw-q2-${randomUUID().slice(0, 6)}`;
    const broker = new RedisBroker({ url: redis.url, restoreIntervalMs: 0 });
    const held: Delivery[] = [];
    await broker.publishMany(
      ['a', 'b'].map((id) => ({ message: raw(id), target: { exchange: '', routingKey: q1 } })),
    );
    await broker.publish(raw('c'), { exchange: '', routingKey: q2 });
    const consumer = await broker.consume([q1], (d) => {
      held.push(d); // held, unacked (prefetched / ETA)
    });
    const c = consumer as typeof consumer & {
      queues: readonly string[];
      addQueue(q: string): Promise<void>;
      cancelQueue(q: string): Promise<void>;
    };
    await until(() => held.length === 2);
    await c.addQueue(q2);
    expect(c.queues).toEqual([q1, q2]);
    await until(() => held.length === 3);
    await c.cancelQueue(q1);
    expect(c.queues).toEqual([q2]);
    await new Promise((r) => setTimeout(r, 1200)); // a BRPOP still pending on q1 has ended
    await broker.publish(raw('d'), { exchange: '', routingKey: q1 });
    await new Promise((r) => setTimeout(r, 1500));
    expect(held.map((d) => d.message.headers.id)).toEqual(['a', 'b', 'c']);
    expect(await admin.llen(q1)).toBe(1); // 'd' waits for another consumer
    expect(await admin.hlen('unacked')).toBe(3); // nothing handed back
    for (const d of held) await d.ack();
    expect(await admin.hlen('unacked')).toBe(0);
    await consumer.cancel();
    await broker.close();
  }, 30_000);

  it('recording the unacked entry fails: not delivered, put back, delivered once it works', async () => {
    const q = `cw-qa-${randomUUID().slice(0, 6)}`;
    await admin.call('ACL', 'SETUSER', 'w', 'on', '>pw', '~*', '&*', '+@all', '-zadd');
    const url = `redis://w:pw@127.0.0.1:${String(redis.port)}/0`;
    const broker = new RedisBroker({ url, restoreIntervalMs: 0 });
    const got: string[] = [];
    const errors: Error[] = [];
    await broker.publishMany(
      ['1', '2', '3'].map((id) => ({ message: raw(id), target: { exchange: '', routingKey: q } })),
    );
    const consumer = await broker.consume(
      [q],
      async (d) => {
        got.push(d.message.headers.id as string);
        await d.ack();
      },
      { onError: (e) => errors.push(e) },
    );
    await until(() => errors.some((e) => e.message.includes('recording unacked delivery')));
    await new Promise((r) => setTimeout(r, 500));
    expect(got).toEqual([]);
    expect(await admin.hlen('unacked')).toBe(0);
    await admin.call('ACL', 'SETUSER', 'w', '+zadd');
    await until(() => got.length === 3);
    expect([...got].sort()).toEqual(['1', '2', '3']);
    await until(async () => (await admin.hlen('unacked')) === 0);
    expect(await admin.llen(q)).toBe(0);
    await consumer.cancel();
    await broker.close();
  }, 30_000);
});
