import type { DeliveryInfo, RawMessage } from './raw-message';
import { decodeRedisEnvelope, encodeRedisEnvelope } from './redis-envelope';
import type { JsonDialect } from '../serialization/python-json';
import { PyDateTime, PyDecimal, PyFloat, PyUUID } from '../serialization/py-values';
import { isPyDict, type PyValue } from '../serialization/py-values';
import { fromB64, isLegacyKombu, listFixtures, loadFixture } from '../../test/support/fixtures';
import { RedisEnvelopeWriter } from './redis-envelope-writer';

const utf8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));

describe('RedisEnvelopeWriter', () => {
  // Raw LRANGE entries kombu 5.2.4 / 5.7.0 LPUSHed (python-peers/capture.py): decoding one and
  // writing it again with the same delivery tag must give kombu's exact text back.
  const captured = listFixtures('captured');
  it('has captured kombu entries to compare with', () => {
    expect(captured.length).toBeGreaterThanOrEqual(10);
  });
  it.each(captured.map((c) => [c.file, c.line] as const))(
    'rewrites %s byte-identically',
    (file, line) => {
      const fx = loadFixture(file, line);
      const entry = fx.expected.entry;
      if (typeof entry !== 'string') throw new Error(`${file}: no entry`);
      const env = decodeRedisEnvelope(entry);
      const dialect: JsonDialect = isLegacyKombu(fx.meta.kombu) ? 'kombu-legacy' : 'kombu-5.3';
      const { priority: _p, ...di } = env.deliveryInfo;
      const text = new RedisEnvelopeWriter(dialect).write(env.message, di, env.deliveryTag);
      expect(text).toBe(entry);
    },
  );

  // Every message record the generator captured from kombu (tasks, events, control, canvas
  // steps, RPC results): the hot-path writer must give kombu's LPUSHed text for it.
  type Dict = Record<string, PyValue>;
  const records: [string, Dict, JsonDialect][] = [];
  for (const { file, line } of listFixtures()) {
    const fx = loadFixture(file, line);
    const dialect: JsonDialect = isLegacyKombu(fx.meta.kombu) ? 'kombu-legacy' : 'kombu-5.3';
    const e = fx.expected;
    const list = Array.isArray(e.messages) ? (e.messages as PyValue[]) : [e];
    list.forEach((m, i) => {
      if (isPyDict(m) && isPyDict(m.redis) && typeof m.redis.envelope === 'string') {
        records.push([`${file}#${String(i)}`, m, dialect]);
      }
    });
  }
  const ordered = (v: PyValue | undefined, order: PyValue | undefined): Dict => {
    const d = (isPyDict(v) ? v : {}) as Dict;
    const keys = Array.isArray(order) ? (order as string[]) : Object.keys(d);
    return Object.fromEntries(keys.map((k) => [k, d[k] as PyValue]));
  };
  it('has fixture messages of every kind to compare with', () => {
    expect(records.length).toBeGreaterThan(200);
  });
  it.each(records)('writes kombu’s envelope for %s', (_name, m, dialect) => {
    const redis = m.redis as Dict;
    const message: RawMessage = {
      body: fromB64(m.body_b64 as string),
      contentType: m.content_type as string,
      contentEncoding: m.content_encoding as string,
      headers: ordered(m.headers, m.headers_order),
      properties: ordered(m.properties, m.properties_order),
    };
    const di = { exchange: m.exchange as string, routing_key: m.routing_key as string };
    const text = new RedisEnvelopeWriter(dialect).write(message, di, redis.delivery_tag as string);
    expect(text).toBe(redis.envelope);
  });

  const base: RawMessage = {
    body: utf8('[[1, 2], {}, {}]'),
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    headers: { task: 't', id: 'i' },
    properties: { correlation_id: 'i', reply_to: 'r', delivery_mode: 2 },
  };
  const di: DeliveryInfo = { exchange: 'celery', routing_key: 'celery' };
  const cases: [string, RawMessage, DeliveryInfo][] = [
    ['plain', base, di],
    [
      'empty body, anonymous exchange',
      { ...base, body: new Uint8Array(0) },
      { exchange: '', routing_key: 'q' },
    ],
    [
      'non-ASCII and control characters everywhere',
      {
        ...base,
        contentType: 'application/x-\u00e9',
        headers: { 'k\u00e9y': 'v\u2603\n"\\', nested: { a: [1, null, true] } },
        properties: { correlation_id: '\ud83d\ude00', reply_to: 'r' },
      },
      { exchange: 'ex\u00e9', routing_key: 'rk"\\' },
    ],
    ['priority from properties', { ...base, properties: { ...base.properties, priority: 7 } }, di],
    ['priority 0', { ...base, properties: { ...base.properties, priority: 0 } }, di],
    ['priority from delivery info', base, { ...di, priority: 4 }],
    ['redelivered delivery info', base, { ...di, redelivered: true }],
    [
      'transport keys in the input are replaced',
      {
        ...base,
        properties: {
          delivery_info: { exchange: 'x' },
          body_encoding: 'utf-8',
          delivery_tag: 'old',
          expiration: '60000',
          undefinedProp: undefined,
        },
      },
      di,
    ],
    [
      'rich values',
      {
        ...base,
        headers: {
          f: new PyFloat(1),
          g: 0.1,
          big: 2n ** 70n,
          dt: new PyDateTime('2026-01-02T03:04:05.678901+00:00'),
          dec: new PyDecimal('1.50'),
          u: new PyUUID('0c0c0c0c-0000-4000-8000-000000000005'),
          b: utf8('\u00ff'),
        },
      },
      di,
    ],
  ];
  // The text, or the error for values a dialect cannot write (bytes in kombu-legacy).
  const outcome = (f: () => string): string => {
    try {
      return f();
    } catch (e) {
      return `threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
    }
  };
  it.each(cases)('matches encodeRedisEnvelope: %s', (_name, message, info) => {
    for (const dialect of ['kombu-5.3', 'kombu-legacy'] as const) {
      const ours = outcome(() => new RedisEnvelopeWriter(dialect).write(message, info, 'tag-1'));
      const theirs = outcome(() =>
        encodeRedisEnvelope(message, info, 'tag-1', { jsonDialect: dialect }),
      );
      expect(ours).toBe(theirs);
    }
    expect(new RedisEnvelopeWriter().write(message, info, 'tag-2')).toBe(
      encodeRedisEnvelope(message, info, 'tag-2'),
    );
  });

  it('keeps the delivery info of each (exchange, routing key) apart', () => {
    const w = new RedisEnvelopeWriter();
    const a = w.write(base, { exchange: 'a', routing_key: 'x' }, 't');
    const b = w.write(base, { exchange: 'b', routing_key: 'x' }, 't');
    expect(a).toContain('"delivery_info": {"exchange": "a", "routing_key": "x"}');
    expect(b).toContain('"delivery_info": {"exchange": "b", "routing_key": "x"}');
  });
});
