import type { Broker, PublishTarget } from '../brokers/broker';
import { LamportClock } from '../events/clock';
import type { CeleryProfileName } from '../protocol/profiles';
import type { RawMessage } from '../protocol/raw-message';
import { encodeRedisEnvelope } from '../protocol/redis-envelope';
import type { PyValue } from '../serialization/py-values';
import { listFixtures, loadFixture, toB64 } from '../../test/support/fixtures';
import { controlHandlers, type ControlTarget } from './commands';
import { PidboxNode } from './pidbox';

/**
 * The runtime's pidbox node with the built-in command table against kombu's `Node.dispatch`
 * running Celery's own `Panel` handlers (`python-peers/fixtures/cases_sent.py`).
 */
type Dict = Record<string, PyValue>;

/** A worker that knows no tasks: what the fixture's Celery state holds. */
const idleWorker = {
  hostname: 'w1@fixture-host',
  revoke: () => Promise.resolve([]),
} as unknown as ControlTarget;

const replies = listFixtures('control')
  .map(({ file, line }) => loadFixture(file, line))
  .filter((fx) => typeof fx.input.method === 'string');

describe('runtime control replies produce kombu’s bytes (both lines)', () => {
  it('has reply fixtures for both lines', () => {
    expect(replies.filter((r) => r.line === '5.7').length).toBeGreaterThanOrEqual(3);
    expect(replies.filter((r) => r.line === '5.2').length).toBeGreaterThanOrEqual(3);
  });

  it.each(replies.map((c) => [c.file, c] as const))('%s', async (_f, fx) => {
    const i = fx.input;
    const sent: [RawMessage, PublishTarget][] = [];
    const broker = {
      publish: (m: RawMessage, t: PublishTarget) => {
        sent.push([m, t]);
        return Promise.resolve();
      },
    } as unknown as Broker;
    const profile = `celery-${fx.line}` as CeleryProfileName;
    const node = new PidboxNode({
      broker,
      hostname: 'w1@fixture-host',
      clock: new LamportClock(),
      handlers: controlHandlers(idleWorker, profile),
      serializer: 'json',
      jsonDialect: fx.line === '5.7' ? 'kombu-5.3' : 'kombu-legacy',
    });
    await node.handle({
      method: i.method as string,
      arguments: i.arguments as Dict,
      destination: null,
      pattern: null,
      matcher: null,
      ticket: i.ticket as string,
      reply_to: { exchange: i.exchange as string, routing_key: i.routing_key as string },
    });
    const [m, t] = sent[0] ?? [];
    if (!m || !t) throw new Error('no reply sent');
    const e = fx.expected;
    expect(new TextDecoder().decode(m.body)).toBe(
      Buffer.from(e.body_b64 as string, 'base64').toString('utf-8'),
    );
    expect(toB64(m.body)).toBe(e.body_b64);
    expect(Object.keys(m.headers)).toEqual(e.headers_order);
    expect(m.headers).toEqual(e.headers);
    expect(Object.keys(m.properties)).toEqual(e.properties_order);
    expect(m.properties).toEqual(e.properties);
    expect([t.exchange, t.routingKey]).toEqual([e.exchange, e.routing_key]);
    const redis = e.redis as Dict;
    expect(
      encodeRedisEnvelope(
        m,
        { exchange: t.exchange, routing_key: t.routingKey },
        redis.delivery_tag as string,
        { jsonDialect: fx.line === '5.7' ? 'kombu-5.3' : 'kombu-legacy' },
      ),
    ).toBe(redis.envelope);
  });
});
