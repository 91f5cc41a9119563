import { randomUUID } from 'node:crypto';
import type { BrokerStatus } from '../broker';
import { TcpProxy } from '../../../test/support/tcp-proxy';
import { AmqpBroker } from './amqp-broker';

// The shared RabbitMQ must not be restarted: the outage is a TCP proxy in front of it that the
// test stops (every socket cut, port closed) and starts again on the same port.
describe('AMQP connection recovery (kombu ensure_connection semantics)', () => {
  it('lost → reconnecting (attempt n, backoff delay, reason) → connected; consumer re-consumes', async () => {
    const proxy = new TcpProxy();
    await proxy.start();
    const statuses: BrokerStatus[] = [];
    const broker = new AmqpBroker({
      url: `amqp://guest:guest@127.0.0.1:${String(proxy.port)}//`,
      backoff: (n) => 100 * n,
    });
    broker.onStatus((s) => statuses.push(s));
    const queue = `cw-test-${randomUUID()}`;
    const got: string[] = [];
    const resets: Error[] = [];
    try {
      await broker.declareQueue({ name: queue, autoDelete: true, durable: false });
      await broker.consume(
        [queue],
        async (d) => {
          got.push(d.message.headers.id as string);
          await d.ack();
        },
        { onReset: (e) => resets.push(e) },
      );
      await proxy.stop();
      await new Promise((r) => setTimeout(r, 700)); // attempts 1..3 fail (refused)
      await proxy.start();
      const end = Date.now() + 10_000;
      while (!statuses.some((s, i) => i > 1 && s.state === 'connected') && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const states = statuses.map((s) => s.state);
      expect(states.slice(0, 3)).toEqual(['connecting', 'connected', 'lost']);
      expect(states.at(-1)).toBe('connected');
      const delays = statuses.flatMap((s) => (s.state === 'reconnecting' ? [s.delayMs] : []));
      expect(delays.length).toBeGreaterThanOrEqual(2);
      expect(delays.slice(0, 2)).toEqual([100, 200]);
      expect(statuses[0]).toEqual({
        state: 'connecting',
        target: `amqp://guest:**@127.0.0.1:${String(proxy.port)}//`,
        attempt: 1,
      });
      expect(resets).toHaveLength(1); // the auto-delete queue died with the connection
      await broker.publish(
        {
          body: new TextEncoder().encode('[[], {}, {}]'),
          contentType: 'application/json',
          contentEncoding: 'utf-8',
          headers: { id: 'after' },
          properties: {},
        },
        { exchange: '', routingKey: queue },
      );
      const end2 = Date.now() + 5000;
      while (got.length === 0 && Date.now() < end2) await new Promise((r) => setTimeout(r, 20));
      expect(got).toEqual(['after']); // re-declared and consumed again on the new connection
    } finally {
      await broker.close();
      await proxy.stop();
    }
  });

  it('gives up after broker_connection_max_retries failed attempts', async () => {
    const proxy = new TcpProxy();
    await proxy.start();
    const statuses: BrokerStatus[] = [];
    const broker = new AmqpBroker({
      url: `amqp://guest:guest@127.0.0.1:${String(proxy.port)}//`,
      backoff: () => 50,
      connectionMaxRetries: 2,
    });
    broker.onStatus((s) => statuses.push(s));
    try {
      await broker.connect();
      await proxy.stop();
      const end = Date.now() + 5000;
      while (!statuses.some((s) => s.state === 'gave-up') && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(statuses.filter((s) => s.state === 'reconnecting')).toHaveLength(2);
      const last = statuses.at(-1);
      expect(last?.state).toBe('gave-up');
      expect(last?.state === 'gave-up' ? last.reason.name : '').toBe('ConnectionGaveUpError');
    } finally {
      await broker.close();
    }
  });
});
