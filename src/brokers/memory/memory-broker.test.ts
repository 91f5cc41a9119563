import type { RawMessage } from '../../protocol/raw-message';
import type { Delivery } from '../broker';
import { topicPattern } from './exchange';
import { MemoryBroker, MemoryBrokerState, sharedBrokerState } from './memory-broker';

function msg(text: string): RawMessage {
  return {
    body: new TextEncoder().encode(text),
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    headers: {},
    properties: {},
  };
}

const text = (d: Delivery): string => new TextDecoder().decode(d.message.body);

/** Let queued microtask deliveries reach their handlers. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

describe('memory broker routing (kombu virtual exchange types)', () => {
  it('default exchange routes to the queue named by the routing key, created on demand', async () => {
    const b = new MemoryBroker();
    await b.publish(msg('a'), { exchange: '', routingKey: 'undeclared' });
    expect(b.size('undeclared')).toBe(1);
  });

  it('direct exchange: only bindings with the same key', async () => {
    const b = new MemoryBroker();
    await b.declareQueue({ name: 'q1', exchange: 'ex', routingKey: 'k1' });
    await b.declareQueue({ name: 'q2', exchange: 'ex', routingKey: 'k2' });
    await b.publish(msg('a'), { exchange: 'ex', routingKey: 'k1' });
    expect([b.size('q1'), b.size('q2')]).toEqual([1, 0]);
    await b.publish(msg('b'), { exchange: 'ex', routingKey: 'nope' });
    expect(b.unroutable).toBe(1);
  });

  it('topic exchange: kombu wildcards (* one word, # anything, anchored)', async () => {
    expect(topicPattern('a.*.c').test('a.b.c')).toBe(true);
    expect(topicPattern('a.*.c').test('a.b.x.c')).toBe(false);
    expect(topicPattern('a.#').test('a.b.c')).toBe(true);
    // kombu's translation: `a.#` is `^a\..*?$`, so bare `a` does not match (AMQP would).
    expect(topicPattern('a.#').test('a')).toBe(false);
    expect(topicPattern('#').test('anything.at.all')).toBe(true);
    const b = new MemoryBroker();
    await b.declareQueue({
      name: 'ev',
      exchange: 'celeryev',
      exchangeType: 'topic',
      routingKey: 'task.#',
    });
    await b.publish(msg('x'), { exchange: 'celeryev', routingKey: 'task.succeeded' });
    await b.publish(msg('y'), { exchange: 'celeryev', routingKey: 'worker.heartbeat' });
    expect(b.size('ev')).toBe(1);
  });

  it('fanout exchange: every bound queue, once each', async () => {
    const b = new MemoryBroker();
    for (const n of ['f1', 'f2']) {
      await b.declareQueue({ name: n, exchange: 'bc', exchangeType: 'fanout', routingKey: '' });
    }
    await b.declareQueue({
      name: 'f1',
      exchange: 'bc',
      exchangeType: 'fanout',
      routingKey: 'other',
    });
    await b.publish(msg('x'), { exchange: 'bc', routingKey: 'whatever' });
    expect([b.size('f1'), b.size('f2')]).toEqual([1, 1]);
  });
});

describe('memory broker consumers (kombu virtual QoS)', () => {
  it('respects prefetch and hands out more as deliveries are acked', async () => {
    const b = new MemoryBroker();
    for (const t of ['1', '2', '3']) await b.publish(msg(t), { exchange: '', routingKey: 'q' });
    const got: Delivery[] = [];
    await b.consume(['q'], (d) => void got.push(d), { prefetch: 2 });
    await settle();
    expect(got.map(text)).toEqual(['1', '2']);
    expect(b.unackedCount()).toBe(2);
    await got[0]?.ack();
    await settle();
    expect(got.map(text)).toEqual(['1', '2', '3']);
    expect(b.size('q')).toBe(0);
  });

  it('reject(requeue) redelivers with redelivered set; reject without requeue drops', async () => {
    const b = new MemoryBroker();
    await b.publish(msg('m'), { exchange: '', routingKey: 'q' });
    const got: Delivery[] = [];
    await b.consume(['q'], (d) => void got.push(d), { prefetch: 1 });
    await settle();
    expect(got[0]?.redelivered).toBe(false);
    await got[0]?.reject(true);
    await settle();
    expect(got).toHaveLength(2);
    expect(got[1]?.redelivered).toBe(true);
    expect(got[1]?.deliveryInfo.redelivered).toBe(true);
    await got[1]?.reject(false);
    await settle();
    expect(got).toHaveLength(2);
    expect(b.size('q') + b.unackedCount()).toBe(0);
  });

  it('a second ack is a no-op', async () => {
    const b = new MemoryBroker();
    await b.publish(msg('m'), { exchange: '', routingKey: 'q' });
    const got: Delivery[] = [];
    await b.consume(['q'], (d) => void got.push(d));
    await settle();
    await got[0]?.ack();
    await got[0]?.reject(true);
    await settle();
    expect(got).toHaveLength(1);
  });

  it('cancel gives unacked deliveries back to another consumer; old ones go void', async () => {
    const b = new MemoryBroker();
    await b.publish(msg('m'), { exchange: '', routingKey: 'q' });
    const first: Delivery[] = [];
    const c1 = await b.consume(['q'], (d) => void first.push(d));
    await settle();
    await c1.cancel();
    const second: Delivery[] = [];
    await b.consume(['q'], (d) => void second.push(d));
    await settle();
    expect(second.map(text)).toEqual(['m']);
    expect(second[0]?.redelivered).toBe(true);
    // `isVoid` is the issue-8 contract member: the broker took the delivery back.
    expect((first[0] as Delivery & { isVoid: boolean }).isVoid).toBe(true);
    await first[0]?.ack();
    expect(b.unackedCount()).toBe(1);
  });

  it('resetConnection: unacked redelivered on a new session after onReset', async () => {
    const b = new MemoryBroker();
    await b.publish(msg('m'), { exchange: '', routingKey: 'q' });
    const seen: string[] = [];
    const got: (Delivery & { session: number })[] = [];
    await b.consume(['q'], (d) => void got.push(d), {
      onReset: (e: Error) => seen.push(`reset:${e.message}`),
    });
    const status: string[] = [];
    b.onStatus((s) => status.push(s.state));
    await settle();
    b.resetConnection(new Error('gone'));
    await settle();
    expect(seen).toEqual(['reset:gone']);
    expect(got.map((d) => [d.session, d.redelivered])).toEqual([
      [1, false],
      [2, true],
    ]);
    expect(status).toEqual(['lost', 'connected']);
  });

  it('round-robins one queue between consumers; addQueue/cancelQueue change the set', async () => {
    const b = new MemoryBroker();
    const a: string[] = [];
    const c: string[] = [];
    await b.consume(['q'], (d) => void a.push(text(d)));
    const cc = await b.consume(['q'], (d) => void c.push(text(d)));
    for (const t of ['1', '2', '3', '4'])
      await b.publish(msg(t), { exchange: '', routingKey: 'q' });
    await settle();
    expect(a.length + c.length).toBe(4);
    expect(a.length).toBe(2);
    await cc.addQueue('extra');
    expect(cc.queues).toEqual(['q', 'extra']);
    await b.publish(msg('e'), { exchange: '', routingKey: 'extra' });
    await settle();
    expect(c).toContain('e');
    await cc.cancelQueue('extra');
    await b.publish(msg('f'), { exchange: '', routingKey: 'extra' });
    await settle();
    expect(b.size('extra')).toBe(1);
  });

  it('handler failures go to onError, the consumer keeps consuming', async () => {
    const b = new MemoryBroker();
    const errors: string[] = [];
    let n = 0;
    await b.consume(
      ['q'],
      async (d) => {
        n++;
        await d.ack();
        throw new Error('handler broke');
      },
      { onError: (e) => errors.push(e.message) },
    );
    await b.publish(msg('1'), { exchange: '', routingKey: 'q' });
    await b.publish(msg('2'), { exchange: '', routingKey: 'q' });
    await settle();
    expect(n).toBe(2);
    expect(errors).toEqual(['handler broke', 'handler broke']);
  });

  it('noAck subscriptions (fanout) never count as unacked', async () => {
    const b = new MemoryBroker();
    const got: string[] = [];
    await b.subscribeFanout(
      { name: 'w1.pidbox', exchange: 'celery.pidbox', exchangeType: 'fanout', routingKey: '' },
      (m) => got.push(new TextDecoder().decode(m.message.body)),
    );
    await b.publish(msg('ping'), { exchange: 'celery.pidbox', routingKey: '' });
    await settle();
    expect(got).toEqual(['ping']);
    expect(b.unackedCount()).toBe(0);
  });

  it('brokers on one state share queues; close returns only the own consumers\u2019 messages', async () => {
    const state = new MemoryBrokerState();
    const producer = new MemoryBroker({ state });
    const consumer = new MemoryBroker({ state });
    const got: Delivery[] = [];
    await consumer.consume(['q'], (d) => void got.push(d));
    await producer.publish(msg('x'), { exchange: '', routingKey: 'q' });
    await settle();
    expect(got).toHaveLength(1);
    await consumer.close();
    expect(producer.size('q')).toBe(1);
    await expect(consumer.publish(msg('y'), { exchange: '', routingKey: 'q' })).rejects.toThrow(
      'closed',
    );
    expect(sharedBrokerState('memory://a')).toBe(sharedBrokerState('memory://a'));
  });
});
