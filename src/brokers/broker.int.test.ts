import { randomUUID } from 'node:crypto';
import { BrokerError } from '../errors/errors';
import type { RawMessage } from '../protocol/raw-message';
import { AmqpBroker } from './amqp/amqp-broker';
import type { Broker, Delivery, QueueSpec } from './broker';
import { RedisBroker } from './redis/redis-broker';

// Shared suite, run against the live local brokers (REDIS_URL / AMQP_URL override the defaults).
const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672//';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';

interface Subject {
  name: string;
  make: () => Broker;
  higherFirst: boolean;
}
const subjects: Subject[] = [
  { name: 'amqp', make: () => new AmqpBroker({ url: AMQP_URL }), higherFirst: true },
  { name: 'redis', make: () => new RedisBroker({ url: REDIS_URL }), higherFirst: false },
];

function message(id: string, priority?: number): RawMessage {
  return {
    body: new TextEncoder().encode(`[[2, 3], {}, {"id": "${id}"}]`),
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    headers: {
      lang: 'py',
      task: 'proj.add',
      id,
      shadow: null,
      retries: 0,
      timelimit: [null, null],
    },
    properties: {
      correlation_id: id,
      reply_to: 'reply-q',
      delivery_mode: 2,
      ...(priority === undefined ? {} : { priority }),
    },
  };
}

function spec(name: string): QueueSpec {
  // x-expires keeps RabbitMQ clean even if a test fails half-way.
  return { name, arguments: { 'x-max-priority': 10, 'x-expires': 60_000 } };
}

/** Collect deliveries; `next()` resolves with the next one (or rejects after `ms`). */
function collector(): {
  handler: (d: Delivery) => void;
  next: (ms?: number) => Promise<Delivery>;
  seen: Delivery[];
} {
  const seen: Delivery[] = [];
  const waiters: ((d: Delivery) => void)[] = [];
  let read = 0;
  return {
    seen,
    handler: (d) => {
      seen.push(d);
      const w = waiters.shift();
      if (w) {
        read++;
        w(d);
      }
    },
    next: (ms = 5000) => {
      if (read < seen.length) return Promise.resolve(seen[read++]!);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => {
          reject(new Error('no delivery'));
        }, ms);
        waiters.push((d) => {
          clearTimeout(t);
          resolve(d);
        });
      });
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.each(subjects)('$name broker', ({ make, higherFirst }) => {
  let broker: Broker;
  let queue: string;
  beforeEach(async () => {
    broker = make();
    await broker.connect();
    await broker.connect(); // idempotent
    queue = `cw-test-${randomUUID()}`;
    await broker.declareQueue(spec(queue));
  });
  afterEach(async () => {
    await broker.close();
    await broker.close(); // idempotent
    if (broker instanceof RedisBroker) {
      const c = broker.newClient();
      await c.del(queue, `${queue}\x06\x163`, `${queue}\x06\x166`, `${queue}\x06\x169`);
      await c.srem(`_kombu.binding.${queue}`, `${queue}\x06\x16\x06\x16${queue}`);
      c.disconnect();
    }
  });

  it('publishes and consumes a message intact, then acks it', async () => {
    const c = collector();
    const consumer = await broker.consume([queue], c.handler, { prefetch: 4 });
    await broker.publish(message('m1', 3), { exchange: '', routingKey: queue, queue: spec(queue) });
    const d = await c.next();
    expect(new TextDecoder().decode(d.message.body)).toBe('[[2, 3], {}, {"id": "m1"}]');
    expect(d.message.contentType).toBe('application/json');
    expect(d.message.contentEncoding).toBe('utf-8');
    expect(d.message.headers).toMatchObject({ id: 'm1', shadow: null, timelimit: [null, null] });
    expect(d.message.properties).toMatchObject({
      correlation_id: 'm1',
      reply_to: 'reply-q',
      delivery_mode: 2,
      priority: 3,
    });
    expect(d.deliveryInfo).toMatchObject({ exchange: '', routing_key: queue });
    expect(d.redelivered).toBe(false);
    expect(d.queue).toBe(queue);
    await d.ack();
    await expect(d.ack()).rejects.toThrow(BrokerError);
    await consumer.cancel();
  });

  it('redelivers a rejected-with-requeue message and drops a plain reject', async () => {
    const c = collector();
    const consumer = await broker.consume([queue], c.handler, { prefetch: 1 });
    await broker.publish(message('r1'), { exchange: '', routingKey: queue });
    const first = await c.next();
    await first.reject(true);
    const again = await c.next();
    expect(again.message.headers.id).toBe('r1');
    expect(again.redelivered).toBe(true);
    await again.reject(false);
    await expect(c.next(1500)).rejects.toThrow('no delivery');
    await consumer.cancel();
  });

  it('orders by priority with the broker semantics', async () => {
    await broker.publishMany([
      { message: message('low', 1), target: { exchange: '', routingKey: queue } },
      { message: message('high', 9), target: { exchange: '', routingKey: queue } },
    ]);
    const c = collector();
    const consumer = await broker.consume([queue], c.handler, { prefetch: 1 });
    const first = await c.next();
    await first.ack();
    const second = await c.next();
    await second.ack();
    const order = [first.message.headers.id, second.message.headers.id];
    expect(order).toEqual(higherFirst ? ['high', 'low'] : ['low', 'high']);
    await consumer.cancel();
  });

  it('enforces prefetch', async () => {
    await broker.publishMany(
      ['a', 'b', 'c', 'd'].map((id) => ({
        message: message(id),
        target: { exchange: '', routingKey: queue },
      })),
    );
    const c = collector();
    const consumer = await broker.consume([queue], c.handler, { prefetch: 2 });
    await sleep(1200);
    expect(c.seen).toHaveLength(2);
    await c.seen[0]!.ack();
    await sleep(1200);
    expect(c.seen).toHaveLength(3);
    for (const d of c.seen.slice(1)) await d.ack();
    await c.next();
    await consumer.cancel();
  });

  it('routes through the named exchange binding', async () => {
    const c = collector();
    const consumer = await broker.consume([queue], c.handler);
    await broker.publish(message('ex1'), { exchange: queue, routingKey: queue });
    const d = await c.next();
    expect(d.deliveryInfo).toMatchObject({ exchange: queue, routing_key: queue });
    await d.ack();
    await consumer.cancel();
  });

  it('delivers a batch larger than one pipeline chunk complete and in publish order', async () => {
    // 1,203 messages: more than one Redis pipeline chunk and one variadic LPUSH, every item
    // carrying its own (equal) queue declaration, as `CeleryClient.prepare` produces them.
    const ids = Array.from({ length: 1203 }, (_, i) => `b${String(i)}`);
    await broker.publishMany(
      ids.map((id) => ({
        message: message(id),
        target: { exchange: queue, routingKey: queue, queue: spec(queue) },
      })),
    );
    const c = collector();
    const consumer = await broker.consume([queue], c.handler, { prefetch: 100 });
    const got: string[] = [];
    const tags = new Set<string | number>();
    for (const _ of ids) {
      const d = await c.next();
      const id = d.message.headers.id;
      got.push(typeof id === 'string' ? id : '?');
      tags.add(d.deliveryTag);
      expect(d.message.body).toEqual(message(typeof id === 'string' ? id : '?').body);
      await d.ack();
    }
    expect(got).toEqual(ids);
    expect(tags.size).toBe(ids.length); // kombu: a fresh delivery tag per publish
    await expect(c.next(300)).rejects.toThrow('no delivery');
    await consumer.cancel();
  });
});

describe('amqp specifics', () => {
  it('surfaces a conflicting queue declaration as BrokerError 406 and keeps publishing', async () => {
    const broker = new AmqpBroker({ url: AMQP_URL });
    const queue = `cw-test-${randomUUID()}`;
    try {
      await broker.declareQueue(spec(queue));
      const err = await broker
        .declareQueue({ name: queue, arguments: { 'x-max-priority': 5, 'x-expires': 60_000 } })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(BrokerError);
      expect((err as BrokerError).replyCode).toBe(406);
      expect((err as BrokerError).message).toMatch(/x-max-priority/);
      await broker.publish(message('after'), { exchange: '', routingKey: queue });
      const c = collector();
      await broker.consume([queue], c.handler);
      expect((await c.next()).message.headers.id).toBe('after');
    } finally {
      await broker.close();
    }
  });
});

describe('amqp publish confirms', () => {
  it('rejects a batch whose channel closes before the confirms arrive', async () => {
    const broker = new AmqpBroker({ url: AMQP_URL });
    try {
      // Publishing to a missing exchange makes RabbitMQ close the channel (404 NOT_FOUND).
      const err = await broker
        .publishMany(
          ['x1', 'x2'].map((id) => ({
            message: message(id),
            target: { exchange: `cw-missing-${randomUUID()}`, routingKey: 'k' },
          })),
        )
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(BrokerError);
    } finally {
      await broker.close();
    }
  });
});

describe('redis specifics', () => {
  it('keeps kombu ack-emulation state and restores unacked messages on close', async () => {
    const broker = new RedisBroker({ url: REDIS_URL });
    const queue = `cw-test-${randomUUID()}`;
    const raw = broker.newClient();
    try {
      await broker.declareQueue({ name: queue });
      expect(
        await raw.sismember(`_kombu.binding.${queue}`, `${queue}\x06\x16\x06\x16${queue}`),
      ).toBe(1);
      await broker.publish(message('u1', 5), { exchange: '', routingKey: queue });
      expect(await raw.llen(`${queue}\x06\x163`)).toBe(1);
      const c = collector();
      await broker.consume([queue], c.handler);
      const d = await c.next();
      const tag = String(d.deliveryTag);
      const entry = await raw.hget('unacked', tag);
      expect(entry).not.toBeNull();
      expect(entry!.startsWith('[{"body": ')).toBe(true);
      expect(entry!.endsWith(`, "", "${queue}"]`)).toBe(true);
      expect(await raw.zscore('unacked_index', tag)).not.toBeNull();
      await broker.close(); // not acked: RPUSHed back, flagged redelivered
      expect(await raw.hget('unacked', tag)).toBeNull();
      expect(await raw.zscore('unacked_index', tag)).toBeNull();
      const back = await raw.lrange(`${queue}\x06\x163`, 0, -1);
      expect(back).toHaveLength(1);
      expect(back[0]).toContain('"redelivered": true');
    } finally {
      await broker.close();
      await raw.del(queue, `${queue}\x06\x163`);
      await raw.srem(`_kombu.binding.${queue}`, `${queue}\x06\x16\x06\x16${queue}`);
      raw.disconnect();
    }
  });
});
