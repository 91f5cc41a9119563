import { ProtocolError } from '../errors/errors';
import type { RawMessage } from './raw-message';
import { decodeRedisEnvelope, encodeRedisEnvelope, markRedelivered } from './redis-envelope';
import {
  bindingKey,
  bindingMember,
  fanoutChannel,
  parseBindingMember,
  permanentBindingKey,
  priorityQueueKey,
  priorityQueueKeys,
} from './redis-keys';

// Captured from kombu 5.7.0 `Producer.publish` on Redis (LRANGE of the queue list).
const PLAIN =
  '{"body": "eyJhIjogMSwgInUiOiAiXHUwMGU5In0=", "content-encoding": "utf-8", "content-type": "application/json", "headers": {"x": null, "task": "t"}, "properties": {"correlation_id": "cid", "reply_to": "rt", "delivery_mode": 2, "expiration": "60000", "delivery_info": {"exchange": "", "routing_key": "cw_test_envq"}, "priority": 0, "body_encoding": "base64", "delivery_tag": "564a395d-5808-4efc-bfa4-532a78fbf79b"}}';
const PRI5 =
  '{"body": "WzFd", "content-encoding": "utf-8", "content-type": "application/json", "headers": {}, "properties": {"correlation_id": "c2", "delivery_mode": 2, "delivery_info": {"exchange": "", "routing_key": "cw_test_envq"}, "priority": 5, "body_encoding": "base64", "delivery_tag": "0496b08e-f48c-401b-b8f0-19eebcfa042d"}}';
// kombu `_do_restore_message` applied to PLAIN, then `kombu.utils.json.dumps`.
const PLAIN_RESTORED =
  '{"body": "eyJhIjogMSwgInUiOiAiXHUwMGU5In0=", "content-encoding": "utf-8", "content-type": "application/json", "headers": {"x": null, "task": "t", "redelivered": true}, "properties": {"correlation_id": "cid", "reply_to": "rt", "delivery_mode": 2, "expiration": "60000", "delivery_info": {"exchange": "", "routing_key": "cw_test_envq", "redelivered": true}, "priority": 0, "body_encoding": "base64", "delivery_tag": "564a395d-5808-4efc-bfa4-532a78fbf79b"}}';

const utf8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));

describe('Redis envelope', () => {
  it('encodes byte-identically to kombu 5.7.0', () => {
    const msg: RawMessage = {
      body: utf8('{"a": 1, "u": "\\u00e9"}'),
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      headers: { x: null, task: 't' },
      properties: { correlation_id: 'cid', reply_to: 'rt', delivery_mode: 2, expiration: '60000' },
    };
    const di = { exchange: '', routing_key: 'cw_test_envq' };
    expect(encodeRedisEnvelope(msg, di, '564a395d-5808-4efc-bfa4-532a78fbf79b')).toBe(PLAIN);
    const m2: RawMessage = {
      body: utf8('[1]'),
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      headers: {},
      properties: { correlation_id: 'c2', delivery_mode: 2, priority: 5 },
    };
    expect(encodeRedisEnvelope(m2, di, '0496b08e-f48c-401b-b8f0-19eebcfa042d')).toBe(PRI5);
  });

  it('decodes what kombu wrote and round-trips', () => {
    const env = decodeRedisEnvelope(PRI5);
    expect(Buffer.from(env.message.body).toString()).toBe('[1]');
    expect(env.deliveryTag).toBe('0496b08e-f48c-401b-b8f0-19eebcfa042d');
    expect(env.deliveryInfo).toEqual({ exchange: '', routing_key: 'cw_test_envq', priority: 5 });
    expect(env.message.properties).toEqual({ correlation_id: 'c2', delivery_mode: 2, priority: 5 });
    expect(encodeRedisEnvelope(env.message, env.deliveryInfo, env.deliveryTag)).toBe(PRI5);
  });

  it('marks redelivery like _do_restore_message', () => {
    expect(markRedelivered(PLAIN)).toBe(PLAIN_RESTORED);
    const d = decodeRedisEnvelope(PLAIN_RESTORED);
    expect(d.deliveryInfo.redelivered).toBe(true);
    expect(d.message.headers.redelivered).toBe(true);
    // no delivery_info: only the header is set (KeyError swallowed in Python)
    const noDi = '{"headers": {}, "properties": {"delivery_tag": "t"}}';
    expect(markRedelivered(noDi)).toBe(
      '{"headers": {"redelivered": true}, "properties": {"delivery_tag": "t"}}',
    );
  });

  it.each([
    ['[1]', ''],
    ['{"properties": {}}', '/properties/delivery_tag'],
    [
      '{"properties": {"delivery_tag": "x", "body_encoding": "rot13"}}',
      '/properties/body_encoding',
    ],
    ['{"body": "!!", "properties": {"delivery_tag": "x", "body_encoding": "base64"}}', '/body'],
    ['{"headers": 3, "properties": {"delivery_tag": "x"}}', '/headers'],
    ['not json', ''],
  ])('rejects malformed %s at %s', (text, path) => {
    let err: unknown;
    try {
      decodeRedisEnvelope(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).path).toBe(path);
  });
});

describe('Redis keys', () => {
  it('maps priorities to kombu sub-queues', () => {
    expect(priorityQueueKey('celery', undefined)).toBe('celery');
    expect(priorityQueueKey('celery', 2)).toBe('celery');
    expect(priorityQueueKey('celery', 5)).toBe('celery\x06\x163');
    expect(priorityQueueKey('celery', 8)).toBe('celery\x06\x166');
    expect(priorityQueueKey('celery', 42)).toBe('celery\x06\x169');
    expect(priorityQueueKey('celery', -3)).toBe('celery');
    expect(priorityQueueKeys('q')).toEqual(['q', 'q\x06\x163', 'q\x06\x166', 'q\x06\x169']);
  });
  it('builds binding keys and members', () => {
    expect(bindingKey('celery')).toBe('_kombu.binding.celery');
    expect(permanentBindingKey('celery')).toBe('_kombu.binding_permanent.celery');
    expect(bindingMember('celery', '', 'celery')).toBe('celery\x06\x16\x06\x16celery');
    expect(parseBindingMember('\x06\x16\x06\x16w1@h.celery.pidbox')).toEqual({
      routingKey: '',
      pattern: '',
      queue: 'w1@h.celery.pidbox',
    });
  });
  it('names fanout channels', () => {
    expect(fanoutChannel('celery.pidbox', '')).toBe('/0.celery.pidbox');
    expect(fanoutChannel('celeryev', 'task.multi', { db: 2 })).toBe('/2.celeryev/task.multi');
    expect(fanoutChannel('celeryev', 'x', { fanoutPrefix: false })).toBe('celeryev/x');
  });
});
