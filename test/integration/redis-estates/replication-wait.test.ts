import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createApp } from '../../../src/app/app';
import { RedisBroker } from '../../../src/brokers/redis/redis-broker';
import { BrokerError } from '../../../src/errors/errors';
import type { RawMessage } from '../../../src/protocol/raw-message';
import { startPrivateRedis, type PrivateRedis } from '../redis-private';

/**
 * Issue 10, transport option `publish_wait_replicas` (celery-wire only; kombu has none): Redis
 * replicates asynchronously, so a publish that returned can be missing on the replica Sentinel
 * promotes. With the option, a publish batch resolves only once `WAIT` says that many replicas
 * hold it, and is rejected otherwise. A private master and replica (scripts/redis-private.sh).
 */
const raw = (id: string): RawMessage => ({
  headers: { id, task: 't' },
  properties: { correlation_id: id, delivery_mode: 2, priority: 0 },
  contentType: 'application/json',
  contentEncoding: 'utf-8',
  body: new TextEncoder().encode('[[], {}, {}]'),
});

describe('publish_wait_replicas (WAIT after publish)', () => {
  let master: PrivateRedis;
  let replica: PrivateRedis;
  let m: Redis;
  let r: Redis;
  beforeAll(async () => {
    master = await startPrivateRedis(['--repl-diskless-sync-delay', '0']);
    replica = await startPrivateRedis(['--replicaof', '127.0.0.1', String(master.port)]);
    m = new Redis(master.port, '127.0.0.1');
    r = new Redis(replica.port, '127.0.0.1');
    const end = Date.now() + 30_000;
    while (!(await r.info('replication')).includes('master_link_status:up')) {
      if (Date.now() > end) throw new Error('replica did not sync');
      await new Promise((res) => setTimeout(res, 50));
    }
  }, 60_000);
  afterAll(() => {
    m.disconnect();
    r.disconnect();
    replica.destroy();
    master.destroy();
  });

  it('a resolved publish batch is already on the replica', async () => {
    const q = `cw-wait-${randomUUID().slice(0, 6)}`;
    const broker = new RedisBroker({
      url: master.url,
      transportOptions: { publish_wait_replicas: 1, publish_wait_timeout: 5 },
    });
    try {
      const items = Array.from({ length: 1200 }, (_, i) => ({
        message: raw(`m${String(i)}`),
        target: { exchange: '', routingKey: q },
      }));
      await broker.publishMany(items);
      // Read on the replica right after the publish resolved: WAIT made it hold every message.
      expect(await r.llen(q)).toBe(1200);
      await broker.publish(raw('single'), { exchange: '', routingKey: q });
      expect(await r.llen(q)).toBe(1201);
    } finally {
      await broker.close();
    }
  }, 60_000);

  it('no replica acknowledges: the publish is rejected naming the option; without it, it resolves', async () => {
    const q = `cw-wait-${randomUUID().slice(0, 6)}`;
    await r.call('REPLICAOF', 'NO', 'ONE');
    const waiting = new RedisBroker({
      url: master.url,
      transportOptions: { publish_wait_replicas: 1, publish_wait_timeout: 0.2 },
    });
    const plain = new RedisBroker({ url: master.url });
    const app = createApp({
      brokerUrl: master.url,
      resultBackend: master.url,
      brokerTransportOptions: { publish_wait_replicas: 1, publish_wait_timeout: 0.2 },
      env: {},
    });
    try {
      const err = await waiting.publish(raw('x'), { exchange: '', routingKey: q }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(BrokerError);
      expect(String(err)).toMatch(
        /not acknowledged by 1 replica\(s\) within 200 ms .*publish_wait_replicas/,
      );
      // The message is on the master; the caller was told it may not survive a failover.
      expect(await m.llen(q)).toBe(1);
      await plain.publish(raw('y'), { exchange: '', routingKey: q });
      expect(await m.llen(q)).toBe(2);
      // The app's client gets the option from brokerTransportOptions.
      await expect(
        app.sendTask('conformance.add', { args: [1, 2], queue: q, ignoreResult: true }),
      ).rejects.toThrow(/publish_wait_replicas/);
      expect(await m.llen(q)).toBe(3);
    } finally {
      await r.call('REPLICAOF', '127.0.0.1', String(master.port));
      await app.close();
      await waiting.close();
      await plain.close();
    }
  }, 60_000);
});
