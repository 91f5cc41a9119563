import { randomUUID } from 'node:crypto';
import { startSqsServer, type SqsServer } from '../../../test/support/sqs';
import type { RawMessage } from '../../protocol/raw-message';
import { SqsBroker } from './sqs-broker';
import type { Delivery as BaseDelivery } from '../broker';
import type { SqsLine } from './options';
import type { BrokerStatus } from './sqs-status';

jest.setTimeout(120_000);

/** The SQS broker against a real SQS-compatible server (moto), without Celery on top. */

let server: SqsServer;
beforeAll(async () => {
  server = await startSqsServer();
});
afterAll(async () => {
  await server.stop();
});

/** A delivery with the issue-8 members (declared here until broker.ts has them). */
type Delivery = BaseDelivery & { readonly session: number; readonly isVoid: boolean };

const uid = (): string => randomUUID().slice(0, 8);

function msg(text: string): RawMessage {
  return {
    body: new Uint8Array(Buffer.from(JSON.stringify(text))),
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    headers: { task: 't', id: text },
    properties: { delivery_mode: 2 },
  };
}

function broker(line: SqsLine, vt = 30): SqsBroker {
  return new SqsBroker({
    url: server.brokerUrl,
    line,
    transportOptions: {
      queue_name_prefix: `b-${uid()}-`,
      wait_time_seconds: 1,
      polling_interval: 0.1,
      visibility_timeout: vt,
    },
  });
}

/** Collect deliveries until `n` arrived (or the timeout). */
function collector(): { got: Delivery[]; until(n: number, ms?: number): Promise<Delivery[]> } {
  const got: Delivery[] = [];
  return {
    got,
    async until(n, ms = 20_000) {
      const end = Date.now() + ms;
      while (got.length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      return got;
    },
  };
}

const text = (d: Delivery): string => JSON.parse(Buffer.from(d.message.body).toString()) as string;

describe.each(['5.7', '5.2'] as const)('SqsBroker (kombu %s semantics)', (line) => {
  it('publishes, consumes, acks; status connecting → connected', async () => {
    const b = broker(line);
    const seen: BrokerStatus['state'][] = [];
    b.onStatus((s) => seen.push(s.state));
    const q = `q.${uid()}`;
    await b.declareQueue({ name: q });
    await b.publishMany(
      [1, 2, 3].map((i) => ({
        message: msg(`m${String(i)}`),
        target: { exchange: '', routingKey: q },
      })),
    );
    const c = collector();
    const consumer = await b.consume([q], (d) => {
      c.got.push(d);
    });
    const got = await c.until(3);
    expect(got.map(text).sort()).toEqual(['m1', 'm2', 'm3']);
    expect(got.every((d) => !d.redelivered && d.session === 0 && !d.isVoid)).toBe(true);
    expect(got[0]?.deliveryInfo).toMatchObject({ exchange: '', routing_key: q });
    for (const d of got) await d.ack();
    await consumer.cancel();
    expect(seen.slice(0, 2)).toEqual(['connecting', 'connected']);
    // Acked = deleted: a new consumer gets nothing.
    const again = collector();
    const c2 = await b.consume([q], (d) => {
      again.got.push(d);
    });
    await new Promise((r) => setTimeout(r, 2500));
    await c2.cancel();
    expect(again.got).toEqual([]);
    await b.close();
  });

  it('reject(requeue) makes it visible again (5.2: at once; 5.7: after wait_time_seconds)', async () => {
    const b = broker(line);
    const q = `rq.${uid()}`;
    await b.publish(msg('again'), { exchange: '', routingKey: q, queue: { name: q } });
    const c = collector();
    const consumer = await b.consume([q], (d) => {
      c.got.push(d);
    });
    const [first] = await c.until(1);
    const t0 = Date.now();
    await first?.reject(true);
    const got = await c.until(2);
    const waited = Date.now() - t0;
    expect(got[1]?.redelivered).toBe(true);
    expect(got.map(text)).toEqual(['again', 'again']);
    if (line === '5.7') expect(waited).toBeGreaterThanOrEqual(900);
    await got[1]?.ack();
    await consumer.cancel();
    await b.close();
  });

  it('reject without requeue: 5.7 deletes it, 5.2 leaves it to the visibility timeout', async () => {
    const b = broker(line, 2);
    const q = `rj.${uid()}`;
    await b.publish(msg('drop'), { exchange: '', routingKey: q, queue: { name: q } });
    const c = collector();
    const consumer = await b.consume([q], (d) => {
      c.got.push(d);
    });
    const [first] = await c.until(1);
    await first?.reject(false);
    const got = await c.until(2, 5000);
    if (line === '5.7') expect(got).toHaveLength(1);
    else expect(got).toHaveLength(2);
    await got[1]?.ack();
    await consumer.cancel();
    await b.close();
  });

  it('honours prefetch and consumes added queues; cancelQueue stops one', async () => {
    const b = broker(line);
    const q1 = `p1.${uid()}`;
    const q2 = `p2.${uid()}`;
    await b.declareQueue({ name: q1 });
    await b.declareQueue({ name: q2 });
    await b.publishMany(
      Array.from({ length: 6 }, (_, i) => ({
        message: msg(`x${String(i)}`),
        target: { exchange: '', routingKey: q1 },
      })),
    );
    const c = collector();
    const consumer = await b.consume(
      [q1],
      (d) => {
        c.got.push(d);
      },
      { prefetch: 2 },
    );
    await c.until(2);
    await new Promise((r) => setTimeout(r, 1500));
    expect(c.got).toHaveLength(2);
    for (const d of c.got.splice(0)) await d.ack();
    await c.until(2);
    expect(c.got).toHaveLength(2);
    for (const d of c.got.splice(0)) await d.ack();
    await consumer.setPrefetch(0);
    await c.until(2);
    for (const d of c.got.splice(0)) await d.ack();
    await consumer.addQueue(q2);
    expect([...consumer.queues].sort()).toEqual([q1, q2].sort());
    await b.publish(msg('second'), { exchange: '', routingKey: q2 });
    const [d2] = await c.until(1);
    expect(d2?.queue).toBe(q2);
    await d2?.ack();
    await consumer.cancelQueue(q1);
    expect(consumer.queues).toEqual([q2]);
    await consumer.cancel();
    await b.close();
  });

  it('routes a named direct exchange through the bindings declared in this process', async () => {
    const b = broker(line);
    const q = `ex.${uid()}`;
    await b.declareQueue({ name: q, exchange: 'tasks', routingKey: 'rk.a' });
    await b.publish(msg('routed'), { exchange: 'tasks', routingKey: 'rk.a' });
    // Nothing bound for this key: dropped, as kombu without a dead-letter queue.
    await b.publish(msg('nowhere'), { exchange: 'tasks', routingKey: 'rk.b' });
    const c = collector();
    const consumer = await b.consume([q], (d) => {
      c.got.push(d);
    });
    const got = await c.until(1);
    await new Promise((r) => setTimeout(r, 1500));
    expect(c.got.map(text)).toEqual(['routed']);
    expect(got[0]?.deliveryInfo).toMatchObject({ exchange: 'tasks', routing_key: 'rk.a' });
    await got[0]?.ack();
    await consumer.cancel();
    await b.close();
  });
});
