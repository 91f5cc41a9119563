import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisBackend } from '../../../src/backends/redis/redis-backend';
import { RedisBroker } from '../../../src/brokers/redis/redis-broker';
import type { BrokerStatus } from '../../../src/brokers/broker';
import type { RawMessage } from '../../../src/protocol/raw-message';
import { TcpProxy } from '../../support/tcp-proxy';
import { startPrivateRedis, type PrivateRedis } from '../redis-private';

/**
 * Issue 10, transport options that decide what happens on a half-open connection (a TCP proxy
 * in front of a private redis-server silently drops the traffic of the open connections):
 * `socket_timeout` makes a command fail instead of waiting forever; `health_check_interval`
 * finds the dead connection, drops it and reconnects (kombu 5.7, `maybe_check_brpop_health`,
 * redis-py `check_health`).
 */
const raw = (id: string): RawMessage => ({
  headers: { id, task: 't' },
  properties: { correlation_id: id, delivery_mode: 2, priority: 0 },
  contentType: 'application/json',
  contentEncoding: 'utf-8',
  body: new TextEncoder().encode('[[], {}, {}]'),
});

async function until(cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('half-open Redis connections', () => {
  let redis: PrivateRedis;
  beforeAll(async () => {
    redis = await startPrivateRedis();
  });
  afterAll(() => {
    redis.destroy();
  });

  it('socket_timeout: a publish on a dead connection is rejected, not left waiting', async () => {
    const proxy = new TcpProxy(redis.port);
    await proxy.start();
    const broker = new RedisBroker({
      url: `redis://127.0.0.1:${String(proxy.port)}/0`,
      transportOptions: { socket_timeout: 0.5, health_check_interval: 0 },
    });
    try {
      const q = `cw-hc-${randomUUID().slice(0, 6)}`;
      await broker.publish(raw('a'), { exchange: '', routingKey: q });
      proxy.blackhole();
      await expect(broker.publish(raw('b'), { exchange: '', routingKey: q })).rejects.toThrow(
        /timed out/i,
      );
    } finally {
      await broker.close();
      await proxy.stop();
    }
  }, 60_000);

  it('health_check_interval: the dead connection is dropped (reason logged) and a new one made', async () => {
    const proxy = new TcpProxy(redis.port);
    await proxy.start();
    const broker = new RedisBroker({
      url: `redis://127.0.0.1:${String(proxy.port)}/0`,
      transportOptions: { health_check_interval: 1 },
    });
    const states: BrokerStatus[] = [];
    broker.onStatus((s) => states.push(s));
    try {
      const q = `cw-hc-${randomUUID().slice(0, 6)}`;
      await broker.publish(raw('a'), { exchange: '', routingKey: q });
      await until(() => states.some((s) => s.state === 'connected'));
      proxy.blackhole();
      await until(() => states.some((s) => s.state === 'lost'));
      const lost = states.find((s) => s.state === 'lost');
      expect(lost && 'reason' in lost ? String(lost.reason) : '').toMatch(
        /got no reply for \d+ seconds; dropping stale connection \(health_check_interval\)/,
      );
      await until(() => states.filter((s) => s.state === 'connected').length >= 2);
      // The new connection works: a publish goes through.
      await broker.publish(raw('b'), { exchange: '', routingKey: q });
      const admin = new Redis(redis.port, '127.0.0.1');
      expect(await admin.llen(q)).toBe(2);
      admin.disconnect();
    } finally {
      await broker.close();
      await proxy.stop();
    }
  }, 60_000);

  it('redis_socket_timeout: a result read on a dead backend connection is rejected', async () => {
    const proxy = new TcpProxy(redis.port);
    await proxy.start();
    const backend = new RedisBackend({
      url: `redis://127.0.0.1:${String(proxy.port)}/0`,
      connection: { socketTimeout: 0.5 },
    });
    try {
      const id = randomUUID();
      expect((await backend.getTaskMeta(id)).status).toBe('PENDING');
      proxy.blackhole();
      await expect(backend.getTaskMeta(id)).rejects.toThrow(/cannot GET result/);
    } finally {
      await backend.close();
      await proxy.stop();
    }
  }, 60_000);

  it('redis_backend_health_check_interval: the dead backend connection is dropped and reconnected', async () => {
    const proxy = new TcpProxy(redis.port);
    await proxy.start();
    const errors: string[] = [];
    const backend = new RedisBackend({
      url: `redis://127.0.0.1:${String(proxy.port)}/0`,
      connection: { socketTimeout: 0, healthCheckInterval: 1 },
      onError: (e) => errors.push(String(e)),
    });
    const admin = new Redis(redis.port, '127.0.0.1');
    try {
      const id = randomUUID();
      expect((await backend.getTaskMeta(id)).status).toBe('PENDING');
      proxy.blackhole();
      await until(() => errors.some((e) => e.includes('dropping stale connection')));
      expect(errors.join('\n')).toMatch(/redis_backend_health_check_interval/);
      await admin.set(
        `celery-task-meta-${id}`,
        JSON.stringify({
          status: 'SUCCESS',
          result: 42,
          traceback: null,
          children: [],
          task_id: id,
        }),
      );
      // The new connection reads the stored result.
      let meta = await backend.getTaskMeta(id);
      for (let i = 0; i < 100 && meta.status !== 'SUCCESS'; i++)
        meta = await backend.getTaskMeta(id);
      expect(meta.status).toBe('SUCCESS');
    } finally {
      admin.disconnect();
      await backend.close();
      await proxy.stop();
    }
  }, 60_000);
});
