import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CeleryError } from '../../errors/errors';
import { parseBrokerUrl, type RedisBrokerUrl } from '../url';
import { maskedTarget, redisConnectionOptions, tlsOptions } from './connection-options';
import { RedisKeyspace } from './keyspace';
import { QueueCycle } from './queue-cycle';
import { parseRedisTransportOptions } from './transport-options';

function redisUrl(u: string): RedisBrokerUrl {
  const p = parseBrokerUrl(u);
  if (p.transport !== 'redis') throw new Error('not redis');
  return p;
}

describe('RedisKeyspace (kombu/transport/redis.py key names)', () => {
  it('defaults are kombu’s', () => {
    const k = new RedisKeyspace({ db: 3 });
    expect(k.queueKey('q', 0)).toBe('q');
    expect(k.queueKey('q', 5)).toBe('q\x06\x163');
    expect(k.queueKey('q', 200)).toBe('q\x06\x169');
    expect(k.brpopKeys(['a', 'b'])).toEqual([
      'a',
      'b',
      'a\x06\x163',
      'b\x06\x163',
      'a\x06\x166',
      'b\x06\x166',
      'a\x06\x169',
      'b\x06\x169',
    ]);
    expect(k.binding('ex')).toBe('_kombu.binding.ex');
    expect(k.fanoutChannels('celery.pidbox', '')).toEqual(['/3.celery.pidbox']);
    expect([k.unacked, k.unackedIndex, k.unackedMutex]).toEqual([
      'unacked',
      'unacked_index',
      'unacked_mutex',
    ]);
  });

  it('global_keyprefix prefixes every key and channel, and is stripped from BRPOP replies', () => {
    const k = new RedisKeyspace({ db: 0, globalKeyprefix: 'pfx:' });
    expect(k.queueKey('q', 9)).toBe('pfx:q\x06\x169');
    expect(k.binding('e')).toBe('pfx:_kombu.binding.e');
    expect(k.bindingPermanent('e')).toBe('pfx:_kombu.binding_permanent.e');
    expect(k.unackedIndex).toBe('pfx:unacked_index');
    expect(k.unackedMutex).toBe('pfx:unacked_mutex');
    expect(k.fanoutChannels('celeryev', 'worker.#')).toEqual(['pfx:/0.celeryev/worker.#']);
    expect(k.queueOfKey('pfx:q\x06\x169')).toBe('q');
    // The member itself is not prefixed (kombu prefixes only the SADD key).
    expect(k.member('rk', '', 'q')).toBe('rk\x06\x16\x06\x16q');
  });

  it('sep and priority_steps change queue lists and members', () => {
    const k = new RedisKeyspace({ db: 0, sep: ':', prioritySteps: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] });
    expect(k.queueKey('q', 4)).toBe('q:4');
    expect(k.queueKeys('q')).toHaveLength(10);
    expect(k.member('rk', '', 'q')).toBe('rk::q');
    expect(k.queueOfKey('a:b:7')).toBe('a:b');
  });

  it('Sentinel fanout topics per kombu line', () => {
    expect(new RedisKeyspace({ db: 2, sentinelFanout: 'legacy' }).fanoutChannels('x', '')).toEqual([
      '/{db}.x',
    ]);
    expect(new RedisKeyspace({ db: 2, sentinelFanout: 'both' }).fanoutChannels('x', '')).toEqual([
      '/2.x',
      '/{db}.x',
    ]);
  });
});

describe('QueueCycle (kombu/utils/scheduling.py)', () => {
  it('round_robin rotates, priority keeps order, sorted sorts', () => {
    const rr = new QueueCycle('round_robin', ['b', 'a', 'c']);
    rr.rotate('b');
    expect(rr.consume()).toEqual(['a', 'c', 'b']);
    const pr = new QueueCycle('priority', ['b', 'a', 'c']);
    pr.rotate('b');
    expect(pr.consume()).toEqual(['b', 'a', 'c']);
    const so = new QueueCycle('sorted', ['b', 'a', 'c']);
    so.rotate('a');
    expect(so.consume()).toEqual(['a', 'b', 'c']);
    so.remove('a');
    so.add('0');
    expect(so.consume()).toEqual(['0', 'b', 'c']);
  });
});

describe('parseRedisTransportOptions', () => {
  it('accepts kombu’s options', () => {
    expect(
      parseRedisTransportOptions({
        global_keyprefix: 'p:',
        priority_steps: [0, 5],
        queue_order_strategy: 'sorted',
        visibility_timeout: 10,
        socket_timeout: null,
        master_name: 'm',
        sentinel_kwargs: { password: 'x' },
      }),
    ).toMatchObject({ global_keyprefix: 'p:' });
  });
  it.each([
    [{ globalKeyprefix: 'x' }, /unknown Redis transport option 'globalKeyprefix'/],
    [{ visibility_timeout: '10' }, /'visibility_timeout' must be a non-negative number/],
    [{ priority_steps: [3, 1] }, /'priority_steps' must be an ascending list/],
    [{ queue_order_strategy: 'cycle' }, /'queue_order_strategy' must be one of/],
    [{ sentinel_kwargs: 'pw' }, /'sentinel_kwargs' must be an object/],
    [{ publish_wait_replicas: 0 }, /'publish_wait_replicas' must be an integer ≥ 1/],
    [{ publish_wait_replicas: 1.5 }, /'publish_wait_replicas' must be an integer ≥ 1/],
    [{ publish_wait_timeout: -1 }, /'publish_wait_timeout' must be a non-negative number/],
    [{ health_check_interval: '25' }, /'health_check_interval' must be a non-negative number/],
  ])('rejects %j naming the option', (opts, re) => {
    expect(() => parseRedisTransportOptions(opts)).toThrow(re);
    expect(() => parseRedisTransportOptions(opts)).toThrow(CeleryError);
  });
});

describe('connection options', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cw-tls-'));
  const ca = join(dir, 'ca.pem');
  writeFileSync(ca, 'not really a pem');

  it('rediss:// without options is CERT_NONE on the broker (kombu), an error on the backend', () => {
    const url = redisUrl('rediss://h:6380/0');
    expect(tlsOptions({ url, transport: {}, role: 'broker', setting: 'broker_url' })).toMatchObject(
      { rejectUnauthorized: false, servername: 'h' },
    );
    expect(() =>
      tlsOptions({ url, transport: {}, role: 'backend', setting: 'result_backend' }),
    ).toThrow(/must have parameter ssl_cert_reqs/);
  });

  it('URL ssl_* parameters win over broker_use_ssl', () => {
    const url = redisUrl(`rediss://127.0.0.1:6380/0?ssl_cert_reqs=required&ssl_ca_certs=${ca}`);
    const t = tlsOptions({
      url,
      transport: {},
      ssl: { ssl_cert_reqs: 'none' },
      role: 'broker',
      setting: 'broker_url',
    });
    expect(t?.rejectUnauthorized).toBe(true);
    expect(String(t?.ca)).toBe('not really a pem');
  });

  it('a missing certificate file is a config error naming the option', () => {
    const url = redisUrl('rediss://h/0?ssl_cert_reqs=required&ssl_certfile=/nonexistent.pem');
    expect(() => tlsOptions({ url, transport: {}, role: 'broker', setting: 'b' })).toThrow(
      /ssl_certfile: cannot read \/nonexistent.pem/,
    );
  });

  it('sentinel:// lists: every sentinel, master_name required, sentinel_kwargs password', () => {
    const url = redisUrl('sentinel://:pw@h1:26379/2;sentinel://h2:26380;sentinel://h3');
    expect(url.sentinels).toEqual([
      { host: 'h1', port: 26379 },
      { host: 'h2', port: 26380 },
      { host: 'h3', port: 26379 },
    ]);
    expect(() =>
      redisConnectionOptions({ url, transport: {}, role: 'broker', setting: 'broker_url' }),
    ).toThrow(/'master_name' transport option must be specified/);
    const o = redisConnectionOptions({
      url,
      transport: { master_name: 'mymaster', sentinel_kwargs: { password: 'spw' } },
      role: 'broker',
      setting: 'broker_url',
    });
    expect(o).toMatchObject({ name: 'mymaster', sentinelPassword: 'spw', password: 'pw', db: 2 });
    // A planned failover leaves the old master up: connections follow +switch-master, and a
    // write the demoted node refused is sent again through the sentinels.
    expect(o.failoverDetector).toBe(true);
    expect(
      o.reconnectOnError?.(new Error("READONLY You can't write against a read only replica.")),
    ).toBe(2);
    expect(o.reconnectOnError?.(new Error('WRONGTYPE Operation against a key'))).toBe(false);
    expect(maskedTarget(url)).toBe(
      'sentinel://:**@h1:26379/2;sentinel://h2:26380/2;sentinel://h3:26379/2',
    );
  });

  it('socket_* options become ioredis timeouts and keepalive (kombu Channel._connparams)', () => {
    const url = redisUrl('redis://127.0.0.1:6379/0');
    const o = (transport: object) =>
      redisConnectionOptions({ url, transport, role: 'broker', setting: 'broker_url' });
    expect(o({ socket_timeout: 1.5, socket_connect_timeout: 0.25 })).toMatchObject({
      commandTimeout: 1500,
      connectTimeout: 250,
    });
    expect(o({ socket_timeout: null }).commandTimeout).toBeUndefined();
    expect(o({ socket_keepalive: true }).keepAlive).toBe(0);
    expect(o({ socket_keepalive: false }).keepAlive).toBe(false);
    expect(o({ client_name: 'n' }).connectionName).toBe('n');
  });

  it('the status target masks the password as Celery prints it', () => {
    expect(maskedTarget(redisUrl('redis://:secret@127.0.0.1:6379/4'))).toBe(
      'redis://:**@127.0.0.1:6379/4',
    );
    expect(maskedTarget(redisUrl('redis://127.0.0.1:6379'))).toBe('redis://127.0.0.1:6379/0');
  });
});
