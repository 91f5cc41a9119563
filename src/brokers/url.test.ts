import { CeleryError } from '../errors/errors';
import {
  brokerUrlFromEnv,
  parseBrokerUrl,
  parseBrokerUrls,
  sanitizeBrokerUrl,
  urlToParts,
  type AmqpBrokerUrl,
  type RedisBrokerUrl,
} from './url';

// Expected values were produced by kombu 5.7.0 (`Connection(url)` attributes, pyamqp
// `default_connection_params`, and redis `Channel._connparams()`), see the broker report.

function amqp(url: string): AmqpBrokerUrl {
  const u = parseBrokerUrl(url);
  if (u.transport !== 'amqp') throw new Error('expected amqp');
  return u;
}
function redis(url: string): RedisBrokerUrl {
  const u = parseBrokerUrl(url);
  if (u.transport !== 'redis') throw new Error('expected redis');
  return u;
}

describe('AMQP URLs', () => {
  it.each([
    ['amqp://', '/'],
    ['amqp://h//', '/'],
    ['amqp://h/', '/'],
    ['amqp://h', '/'],
    ['amqp://h/foo', 'foo'],
    ['amqp://h/%2Ffoo', '/foo'],
  ])('%s has vhost %s', (url, vhost) => {
    expect(amqp(url).vhost).toBe(vhost);
  });

  it('applies pyamqp defaults and rewrites localhost', () => {
    expect(amqp('amqp://')).toEqual({
      transport: 'amqp',
      scheme: 'amqp',
      tls: false,
      hostname: '127.0.0.1',
      port: 5672,
      username: 'guest',
      password: 'guest',
      vhost: '/',
      query: {},
    });
    expect(amqp('pyamqp://guest@localhost//').hostname).toBe('127.0.0.1');
  });

  it('percent-decodes credentials and keeps query options', () => {
    const u = amqp('amqp://u%40x:p%3Aw@H:5673/v?heartbeat=10&empty=');
    expect(u).toMatchObject({ hostname: 'h', port: 5673, username: 'u@x', password: 'p:w' });
    expect(u.vhost).toBe('v');
    expect(u.query).toEqual({ heartbeat: '10' });
  });

  it('amqps is TLS on 5671', () => {
    expect(amqp('amqps://h//')).toMatchObject({ tls: true, port: 5671, scheme: 'amqps' });
  });

  it('takes the first of a failover list', () => {
    expect(amqp('amqp://h1//;amqp://h2//').hostname).toBe('h1');
    expect(parseBrokerUrls('amqp://h1//;amqp://h2//').map((u) => u.hostname)).toEqual(['h1', 'h2']);
  });
});

describe('Redis URLs', () => {
  it.each([
    ['redis://', 0],
    ['redis://h', 0],
    ['redis://h/', 0],
    ['redis://h//', 0],
    ['redis://h/3', 3],
    ['redis://h/%2F5', 5],
  ])('%s uses db %d', (url, db) => {
    expect(redis(url).db).toBe(db);
  });

  it('reads password-only and user:password credentials', () => {
    expect(redis('redis://:pw@h:6380/2')).toMatchObject({
      hostname: 'h',
      port: 6380,
      username: undefined,
      password: 'pw',
      db: 2,
    });
    expect(redis('redis://user:p%40w@h/1')).toMatchObject({ username: 'user', password: 'p@w' });
  });

  it('defaults to 127.0.0.1:6379', () => {
    expect(redis('redis://')).toMatchObject({ hostname: '127.0.0.1', port: 6379, tls: false });
  });

  it('rediss is TLS and keeps ssl_* options', () => {
    expect(redis('rediss://h/0?ssl_cert_reqs=required')).toMatchObject({
      tls: true,
      query: { ssl_cert_reqs: 'required' },
    });
  });

  it('redis+socket takes the path and virtual_host query', () => {
    expect(redis('redis+socket:///tmp/redis.sock?virtual_host=1')).toMatchObject({
      socketPath: '/tmp/redis.sock',
      hostname: undefined,
      db: 1,
    });
    expect(redis('redis+socket:///tmp/redis.sock').db).toBe(0);
  });

  it('rejects a non-integer db like _prepare_virtual_host', () => {
    expect(() => redis('redis://h/x')).toThrow(CeleryError);
    expect(() => redis('redis://h/x')).toThrow(/Database is int/);
  });
});

describe('misc', () => {
  it('rejects unknown schemes and bad ports', () => {
    expect(() => parseBrokerUrl('zmq://')).toThrow(/unsupported/);
    expect(() => parseBrokerUrl('amqp://h:abc//')).toThrow(/Port/);
  });

  it('reads SQS credentials and endpoint as kombu does (conninfo.userid/password/hostname)', () => {
    expect(parseBrokerUrl('sqs://')).toMatchObject({
      transport: 'sqs',
      username: undefined,
      password: undefined,
      hostname: undefined,
    });
    // Secrets with '/' or '+' must be percent-quoted, as for kombu's urlparse.
    expect(parseBrokerUrl('SQS://AKIA:ab%2Fc%2B@127.0.0.1:9324')).toMatchObject({
      transport: 'sqs',
      username: 'AKIA',
      password: 'ab/c+',
      hostname: '127.0.0.1',
      port: 9324,
    });
  });

  it('urlToParts mirrors kombu url_to_parts', () => {
    expect(urlToParts('amqp://a:b@[::1]:1234//x?y=1')).toEqual({
      scheme: 'amqp',
      hostname: '::1',
      port: 1234,
      username: 'a',
      password: 'b',
      path: '/x',
      query: { y: '1' },
    });
  });

  it('reads CELERY_BROKER_URL', () => {
    expect(brokerUrlFromEnv({ CELERY_BROKER_URL: 'redis://x/1' })).toBe('redis://x/1');
    expect(brokerUrlFromEnv({})).toBe('amqp://guest:guest@localhost:5672//');
  });

  it('masks passwords', () => {
    expect(sanitizeBrokerUrl('amqp://u:secret@h//')).toBe('amqp://u:**@h//');
  });
});
