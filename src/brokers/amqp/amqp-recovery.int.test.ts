import { randomUUID } from 'node:crypto';
import type { RawMessage } from '../../protocol/raw-message';
import type { Delivery } from '../broker';
import { AmqpBroker } from './amqp-broker';
import { ChannelError } from './errors';

const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672//';

function message(id: string): RawMessage {
  return {
    body: new TextEncoder().encode(`[[], {}, {}]`),
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    headers: { lang: 'py', task: 't', id },
    properties: { correlation_id: id, delivery_mode: 2 },
  };
}

async function waitFor(pred: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}

describe('AMQP publisher: a channel error fails one publish only', () => {
  it('404 on the publish channel, then publishes work again on a fresh channel', async () => {
    const broker = new AmqpBroker({ url: AMQP_URL });
    const queue = `cw-test-${randomUUID()}`;
    try {
      await broker.declareQueue({ name: queue, autoDelete: true, durable: false });
      const err = await broker
        .publish(message('x'), { exchange: `cw-missing-${randomUUID()}`, routingKey: 'k' })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(ChannelError);
      expect((err as ChannelError).replyCode).toBe(404);
      for (const id of ['a', 'b', 'c']) {
        await broker.publish(message(id), { exchange: '', routingKey: queue });
      }
      const got: string[] = [];
      await broker.consume([queue], async (d) => {
        got.push(d.message.headers.id as string);
        await d.ack();
      });
      await waitFor(() => got.length === 3);
      expect(got).toEqual(['a', 'b', 'c']);
    } finally {
      await broker.close();
    }
  });
});

describe('AMQP consumer: addQueue / cancelQueue on the running consumer', () => {
  it('consume one more queue and cancel one, held deliveries stay valid and ack once', async () => {
    const broker = new AmqpBroker({ url: AMQP_URL });
    const q1 = `cw-test-${randomUUID()}`;
    const q2 = `cw-test-${randomUUID()}`;
    const held: Delivery[] = [];
    let resets = 0;
    try {
      for (const q of [q1, q2])
        await broker.declareQueue({ name: q, autoDelete: true, durable: false });
      await broker.publish(message('h1'), { exchange: '', routingKey: q1 });
      await broker.publish(message('h2'), { exchange: '', routingKey: q2 });
      const c = await broker.consume(
        [q1],
        (d) => {
          held.push(d); // held, like an ETA task: acked later
        },
        { prefetch: 10, onReset: () => resets++ },
      );
      await waitFor(() => held.length === 1);
      await c.addQueue(q2);
      await waitFor(() => held.length === 2);
      expect(c.queues).toEqual([q1, q2]);
      await c.cancelQueue(q1);
      expect(c.queues).toEqual([q2]);
      expect(held.map((d) => [d.queue, d.isVoid, d.session])).toEqual([
        [q1, false, 1],
        [q2, false, 1],
      ]);
      for (const d of held) await d.ack();
      await broker.publish(message('n1'), { exchange: '', routingKey: q1 }); // not consumed now
      await broker.publish(message('n2'), { exchange: '', routingKey: q2 });
      await waitFor(() => held.length === 3);
      await new Promise((r) => setTimeout(r, 300));
      expect(held.map((d) => d.message.headers.id)).toEqual(['h1', 'h2', 'n2']);
      expect(resets).toBe(0);
    } finally {
      await broker.close();
    }
  });
});
