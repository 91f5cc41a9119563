import { randomUUID } from 'node:crypto';
import { TcpProxy } from '../../../test/support/tcp-proxy';
import type { BrokerStatus } from '../broker';
import { AmqpBroker } from './amqp-broker';

/**
 * Failover lists against the real (shared) RabbitMQ: three TCP proxies in front of it stand for
 * three nodes, and the test "loses" a node by stopping its proxy. The order of attempts and
 * sleeps is kombu's (`kombu/connection.py`, `Connection._ensure_connection`, `completes_cycle`).
 */
const target = (p: TcpProxy): string => `amqp://guest:**@127.0.0.1:${String(p.port)}//`;
const url = (p: TcpProxy): string => `amqp://guest:guest@127.0.0.1:${String(p.port)}//`;

async function until(pred: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}

/** `reconnecting` and `gave-up` statuses, shortened to what the schedule is about. */
function schedule(statuses: readonly BrokerStatus[]): string[] {
  return statuses.flatMap((s) => {
    if (s.state === 'reconnecting') {
      return [`${s.failover === true ? 'failover' : `sleep ${String(s.delayMs)}`} ${s.target}`];
    }
    if (s.state === 'lost' || s.state === 'connected') return [`${s.state} ${s.target}`];
    if (s.state === 'gave-up') return ['gave-up'];
    return [];
  });
}

describe('AMQP failover list (broker_url "amqp://h1//;amqp://h2//;amqp://h3//")', () => {
  it('moves to the next node at once on a loss, sleeps only after a whole round, then gives up', async () => {
    const nodes = [new TcpProxy(), new TcpProxy(), new TcpProxy()];
    for (const n of nodes) await n.start();
    const [n1, n2, n3] = nodes as [TcpProxy, TcpProxy, TcpProxy];
    const statuses: BrokerStatus[] = [];
    const broker = new AmqpBroker({
      url: nodes.map(url).join(';'),
      backoff: (n) => 50 * n,
      connectionMaxRetries: 4,
    });
    broker.onStatus((s) => statuses.push(s));
    const queue = `cw-failover-${randomUUID()}`;
    const got: string[] = [];
    const publish = (id: string): Promise<void> =>
      broker.publish(
        {
          body: new TextEncoder().encode('[[], {}, {}]'),
          contentType: 'application/json',
          contentEncoding: 'utf-8',
          headers: { id },
          properties: {},
        },
        { exchange: '', routingKey: queue },
      );
    try {
      await broker.declareQueue({ name: queue, autoDelete: true, durable: false });
      await broker.consume([queue], async (d) => {
        got.push(d.message.headers.id as string);
        await d.ack();
      });
      expect(broker.target).toBe(target(n1));

      // Node 1 goes: retried at once (refused), then node 2 without a sleep.
      await n1.stop();
      await until(() => broker.target === target(n2) && statuses.at(-1)?.state === 'connected');
      await publish('on-2');
      await until(() => got.includes('on-2'));

      // Node 2 goes: node 3 is next in the round-robin cycle.
      await n2.stop();
      await until(() => broker.target === target(n3) && statuses.at(-1)?.state === 'connected');
      await publish('on-3');
      await until(() => got.includes('on-3'));

      // The last node goes: a whole round fails, one sleep, then max_retries (4) is reached.
      await n3.stop();
      await until(() => statuses.some((s) => s.state === 'gave-up'));
      expect(schedule(statuses)).toEqual([
        `connected ${target(n1)}`,
        `lost ${target(n1)}`,
        `failover ${target(n1)}`,
        `connected ${target(n2)}`,
        `lost ${target(n2)}`,
        `failover ${target(n2)}`,
        `connected ${target(n3)}`,
        `lost ${target(n3)}`,
        `failover ${target(n3)}`, // retries 0
        `failover ${target(n1)}`, // retries 1
        `sleep 50 ${target(n2)}`, // retries 2 completes the round: backoff(1)
        `failover ${target(n3)}`, // retries 3
        'gave-up', // retries 4 = max_retries
      ]);
      expect(got).toEqual(['on-2', 'on-3']);
    } finally {
      await broker.close();
      for (const n of nodes) await n.stop();
    }
  });

  it("the worker's order (restartFromFirstOnLoss): after a loss it starts again from the first URL", async () => {
    // Celery's worker builds a new Connection after a loss (`Consumer.connect`), whose cycle
    // starts at alt[0]: on node 2's loss it goes back to node 1 (up again), not on to node 3.
    const nodes = [new TcpProxy(), new TcpProxy(), new TcpProxy()];
    for (const n of nodes) await n.start();
    const [n1, n2, n3] = nodes as [TcpProxy, TcpProxy, TcpProxy];
    const statuses: BrokerStatus[] = [];
    const broker = new AmqpBroker({
      url: nodes.map(url).join(';'),
      backoff: (n) => 50 * n,
      restartFromFirstOnLoss: true,
    });
    broker.onStatus((s) => statuses.push(s));
    try {
      await broker.connect();
      await n1.stop();
      await until(() => broker.target === target(n2) && statuses.at(-1)?.state === 'connected');
      await n1.start();
      await n2.stop();
      await until(() => broker.target === target(n1) && statuses.at(-1)?.state === 'connected');
      expect(schedule(statuses)).toEqual([
        `connected ${target(n1)}`,
        `lost ${target(n1)}`,
        `failover ${target(n1)}`,
        `connected ${target(n2)}`,
        `lost ${target(n2)}`,
        `connected ${target(n1)}`,
      ]);
      expect(statuses.some((s) => s.target === target(n3))).toBe(false);
    } finally {
      await broker.close();
      for (const n of nodes) await n.stop();
    }
  });

  it('connect() tries each node once, in order, and connects to the first that answers', async () => {
    const dead = [new TcpProxy(), new TcpProxy()];
    for (const d of dead) await d.start();
    for (const d of dead) await d.stop(); // ports known, nothing listening
    const live = new TcpProxy();
    await live.start();
    const statuses: BrokerStatus[] = [];
    const broker = new AmqpBroker({
      url: [...dead, live].map(url),
      failoverStrategy: 'round-robin',
    });
    broker.onStatus((s) => statuses.push(s));
    try {
      await broker.connect();
      const [d1, d2] = dead as [TcpProxy, TcpProxy];
      expect(schedule(statuses)).toEqual([
        `failover ${target(d1)}`,
        `failover ${target(d2)}`,
        `connected ${target(live)}`,
      ]);
      const failed = statuses.find((s) => s.state === 'reconnecting');
      expect(failed?.state === 'reconnecting' ? failed.reason.message : '').toMatch(/ECONNREFUSED/);
    } finally {
      await broker.close();
      await live.stop();
    }
  });
});
