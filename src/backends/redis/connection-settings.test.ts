import { parseBrokerUrl, type RedisBrokerUrl } from '../../brokers/url';
import { redisConnectionOptions } from '../../brokers/redis/connection-options';
import { CeleryError } from '../../errors/errors';
import { backendConnectionTransport } from './connection-settings';

function redisUrl(u: string): RedisBrokerUrl {
  const p = parseBrokerUrl(u);
  if (p.transport !== 'redis') throw new Error('not redis');
  return p;
}

/** What ioredis gets for the backend, from the settings as Celery's `RedisBackend.__init__` reads them. */
function ioredisOptions(...args: Parameters<typeof backendConnectionTransport>) {
  return redisConnectionOptions({
    url: redisUrl('redis://127.0.0.1:6379/1'),
    transport: backendConnectionTransport(...args),
    role: 'backend',
    setting: 'result_backend',
  });
}

describe('Redis result backend connection settings (celery/backends/redis.py)', () => {
  it('redis_socket_timeout defaults to 120 s; 0 or null means none', () => {
    expect(ioredisOptions({}).commandTimeout).toBe(120_000);
    expect(ioredisOptions({}, { socketTimeout: 2.5 }).commandTimeout).toBe(2500);
    expect(ioredisOptions({}, { socketTimeout: 0 }).commandTimeout).toBeUndefined();
    expect(ioredisOptions({}, { socketTimeout: null }).commandTimeout).toBeUndefined();
  });

  it('the setting wins over result_backend_transport_options; the option applies alone', () => {
    expect(ioredisOptions({ socket_timeout: 5 }).commandTimeout).toBe(5000);
    expect(ioredisOptions({ socket_timeout: 5 }, { socketTimeout: 7 }).commandTimeout).toBe(7000);
  });

  it('connect timeout, keepalive, health check interval', () => {
    const o = ioredisOptions({}, { socketConnectTimeout: 2, socketKeepalive: true });
    expect(o.connectTimeout).toBe(2000);
    expect(o.keepAlive).toBe(0); // SO_KEEPALIVE with the OS idle time
    expect(ioredisOptions({}, { socketKeepalive: false }).keepAlive).toBe(false);
    expect(ioredisOptions({}).keepAlive).toBeUndefined(); // ioredis' own default
    expect(backendConnectionTransport({}).health_check_interval).toBe(0);
    expect(backendConnectionTransport({}, { healthCheckInterval: 10 }).health_check_interval).toBe(
      10,
    );
  });

  it.each([
    [{ socketTimeout: '5' }, /redis_socket_timeout must be a non-negative number, got "5"/],
    [{ socketConnectTimeout: -1 }, /redis_socket_connect_timeout must be a non-negative number/],
    [{ retryOnTimeout: 'yes' }, /redis_retry_on_timeout must be true or false/],
    [{ maxConnections: Number.NaN }, /redis_max_connections must be a non-negative number/],
    [{ healthCheckInterval: '25' }, /redis_backend_health_check_interval must be a non-negative/],
  ])('an ill-typed %j is a config error naming the setting', (s, re) => {
    const call = (): unknown => backendConnectionTransport({}, s as never);
    expect(call).toThrow(re);
    expect(call).toThrow(CeleryError);
  });
});
