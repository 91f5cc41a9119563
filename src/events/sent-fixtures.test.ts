import type { Broker, PublishTarget } from '../brokers/broker';
import type { CeleryProfileName } from '../protocol/profiles';
import type { RawMessage } from '../protocol/raw-message';
import { encodeRedisEnvelope } from '../protocol/redis-envelope';
import { isPyDict, type PyValue } from '../serialization/py-values';
import { loads } from '../serialization/registry';
import {
  fromB64,
  listFixtures,
  loadFixture,
  toB64,
  type FixtureCase,
} from '../../test/support/fixtures';
import { LamportClock } from './clock';
import { EventDispatcher } from './dispatcher';
import { Heart } from './heartbeat';

/**
 * The runtime's own sender (EventDispatcher + Heart, as the worker builds them) against what
 * Celery's `EventDispatcher`/`Heart` sent for the same input (`python-peers/fixtures`).
 */
type Dict = Record<string, PyValue>;

/** Records what the dispatcher publishes (a test double for the publish call, not a broker test). */
function recorder(): { broker: Broker; sent: [RawMessage, PublishTarget][] } {
  const sent: [RawMessage, PublishTarget][] = [];
  const broker = {
    publish: (m: RawMessage, t: PublishTarget) => {
      sent.push([m, t]);
      return Promise.resolve();
    },
  } as unknown as Broker;
  return { broker, sent };
}

function sentBody(fx: FixtureCase): Dict {
  return loads(fromB64(fx.expected.body_b64 as string), 'application/json', 'utf-8') as Dict;
}

/** Fixture inputs are written with sorted keys: restore the order the worker passes them in. */
function orderedLike(v: Dict, like: Dict): Dict {
  const keys = [...Object.keys(like).filter((k) => k in v)];
  return Object.fromEntries(keys.map((k) => [k, v[k] as PyValue]));
}

const events = listFixtures('event').map(({ file, line }) => loadFixture(file, line));

describe('runtime event sender produces Celery’s bytes (both lines)', () => {
  it('covers heartbeats, task events and a fractional-hour utcoffset on both lines', () => {
    const names = events.map((e) => `${e.line}/${e.meta.case}`);
    for (const line of ['5.7', '5.2']) {
      for (const c of [
        'worker-heartbeat',
        'worker-heartbeat-control',
        'task-started-utcoffset-ist',
      ])
        expect(names).toContain(`${line}/${c}`);
    }
  });

  it.each(events.map((c) => [c.file, c] as const))('%s', async (_f, fx) => {
    const i = fx.input;
    const { broker, sent } = recorder();
    const d = new EventDispatcher({
      broker,
      hostname: i.hostname as string,
      pid: i.pid as number,
      clock: new LamportClock(),
      now: () => (i.timestamp as number) * 1000,
      utcoffset: () => (typeof i.utcoffset_hours === 'number' ? i.utcoffset_hours : 0),
      profile: `celery-${fx.line}` as CeleryProfileName,
      transport: 'redis',
      enabled: true,
    });
    const heart = new Heart(d, { active: () => 0, processed: () => 0 }, 2.0, {
      swIdent: 'py-celery',
      swVer: fx.meta.celery,
      swSys: 'Linux',
      loadavg: () => [0, 0, 0],
    });
    const type = i.type as string;
    if (i.control === 'heartbeat') await heart.beatNow();
    else if (type === 'worker-heartbeat') await heart.beat();
    else if (type === 'worker-offline') await heart.stop();
    else if (type === 'worker-online') {
      await heart.start();
      await heart.stop();
    } else await d.send(type, orderedLike(i.fields as Dict, sentBody(fx)));
    const [m, t] = sent[0] ?? [];
    if (!m || !t) throw new Error('nothing sent');
    const e = fx.expected;
    expect(new TextDecoder().decode(m.body)).toBe(
      new TextDecoder().decode(fromB64(e.body_b64 as string)),
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
    expect(isPyDict(sentBody(fx))).toBe(true);
  });
});
