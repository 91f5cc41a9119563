import { loads } from '../serialization/registry';
import type { JsonDialect } from '../serialization/python-json';
import { isPyDict, type PyValue } from '../serialization/py-values';
import {
  fromB64,
  listFixtures,
  loadFixture,
  toB64,
  fixtureDialect,
  type FixtureCase,
} from '../../test/support/fixtures';
import {
  controlReplyMessage,
  controlRequestMessage,
  parseControlRequest,
  pidboxExchange,
  replyQueue,
} from './control';
import {
  buildEvent,
  eventMessage,
  eventRoutingKey,
  parseEventBody,
  workerEventFields,
} from './event';
import type { CeleryProfileName } from './profiles';
import type { RawMessage } from './raw-message';
import { encodeRedisEnvelope } from './redis-envelope';

type Dict = Record<string, PyValue>;
const dialect = (fx: FixtureCase): JsonDialect => fixtureDialect(fx);

function sentBody(fx: FixtureCase): PyValue {
  return loads(fromB64(fx.expected.body_b64 as string), 'application/json', 'utf-8');
}

/** Fixture inputs are written with sorted keys: restore Python's order from what was sent. */
function orderedLike(v: Dict, like: PyValue): Dict {
  if (!isPyDict(like)) return v;
  const keys = [
    ...Object.keys(like).filter((k) => k in v),
    ...Object.keys(v).filter((k) => !(k in like)),
  ];
  return Object.fromEntries(keys.map((k) => [k, v[k] as PyValue]));
}

function checkWire(fx: FixtureCase, m: RawMessage, exchange: string, routingKey: string): void {
  const e = fx.expected;
  expect(toB64(m.body)).toBe(e.body_b64);
  expect(Object.keys(m.headers)).toEqual(e.headers_order);
  expect(m.headers).toEqual(e.headers);
  expect(Object.keys(m.properties)).toEqual(e.properties_order);
  expect(m.properties).toEqual(e.properties);
  expect(exchange).toBe(e.exchange);
  expect(routingKey).toBe(e.routing_key);
  const redis = e.redis as Dict;
  const env = encodeRedisEnvelope(
    m,
    { exchange, routing_key: routingKey },
    redis.delivery_tag as string,
    {
      jsonDialect: dialect(fx),
    },
  );
  expect(env).toBe(redis.envelope);
}

const events = listFixtures('event').map(({ file, line }) => loadFixture(file, line));
const controls = listFixtures('control').map(({ file, line }) => loadFixture(file, line));

describe('event fixtures', () => {
  it('has fixtures', () => {
    expect(events.length).toBeGreaterThan(10);
  });
  it.each(events.map((c) => [c.file, c] as const))('%s', (_f, fx) => {
    const i = fx.input;
    const type = i.type as string;
    const sent = sentBody(fx) as Dict;
    const fields: Dict = isPyDict(i.fields)
      ? orderedLike(i.fields, sent)
      : i.control === 'heartbeat'
        ? { freq: 5, sw_ident: 'py-celery', sw_ver: fx.meta.celery, sw_sys: 'Linux' }
        : workerEventFields({
            freq: 2,
            active: 0,
            processed: 0,
            loadavg: [0, 0, 0],
            swVer: fx.meta.celery,
            swSys: 'Linux',
          });
    const ev = buildEvent(type, fields, {
      hostname: i.hostname as string,
      pid: i.pid as number,
      clock: (i.clock_start as number) + 1,
      utcoffsetHours: typeof i.utcoffset_hours === 'number' ? i.utcoffset_hours : 0,
      timestamp: i.timestamp as number,
      profile: `celery-${fx.line}` as CeleryProfileName,
    });
    const pub = eventMessage(ev, {
      hostname: i.hostname as string,
      routingKey: eventRoutingKey(type),
      jsonDialect: dialect(fx),
    });
    checkWire(fx, pub.message, pub.exchange, pub.routingKey);
    const [parsed] = parseEventBody(sent);
    expect(parsed?.type).toBe(type);
    expect(parsed?.hostname).toBe(i.hostname);
  });
});

describe('control fixtures', () => {
  it.each(controls.map((c) => [c.file, c] as const))('%s', (_f, fx) => {
    const i = fx.input;
    const sent = sentBody(fx) as Dict;
    if (typeof i.command === 'string') {
      const args = orderedLike((i.arguments ?? {}) as Dict, sent.arguments ?? null);
      const pub = controlRequestMessage(
        {
          method: i.command,
          arguments: args,
          destination: (i.destination ?? null) as string[] | null,
          ticket: (i.reply_ticket ?? null) as string | null,
          oid: i.oid as string,
        },
        { clock: 1, now: i.now as number, timeout: i.timeout as number, jsonDialect: dialect(fx) },
      );
      expect(pub.exchange).toBe(pidboxExchange());
      checkWire(fx, pub.message, pub.exchange, pub.routingKey);
      const parsed = parseControlRequest(sent);
      expect(parsed.method).toBe(i.command);
      expect(parsed.ticket).toBe(i.reply_ticket ?? null);
    } else {
      const reply = i.reply as Dict;
      const [host] = Object.keys(reply);
      const pub = controlReplyMessage({
        hostname: host!,
        reply: reply[host!] as PyValue,
        ticket: i.ticket as string,
        clock: 1,
        replyTo: { exchange: i.exchange as string, routing_key: i.routing_key as string },
        jsonDialect: dialect(fx),
      });
      checkWire(fx, pub.message, pub.exchange, pub.routingKey);
      expect([replyQueue(i.routing_key as string)]).toEqual((fx.expected.redis as Dict).keys);
    }
  });
});
