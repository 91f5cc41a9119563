import { parseBackendUrl, backendUrlFromEnv } from './url';

describe('parseBackendUrl', () => {
  it('parses redis URLs like kombu', () => {
    const u = parseBackendUrl('redis://:s3cret@cache.example:6380/3');
    expect(u.kind).toBe('redis');
    if (u.kind !== 'redis') throw new Error('unreachable');
    expect(u.redis).toMatchObject({
      hostname: 'cache.example',
      port: 6380,
      db: 3,
      password: 's3cret',
    });
    const t = parseBackendUrl('rediss://h:6379/0');
    expect(t.kind === 'redis' && t.redis.tls).toBe(true);
    const s = parseBackendUrl('redis+socket:///tmp/redis.sock');
    expect(s.kind === 'redis' && s.redis.socketPath).toBe('/tmp/redis.sock');
  });

  it('knows rpc and disabled, and refuses the rest', () => {
    expect(parseBackendUrl('rpc://').kind).toBe('rpc');
    expect(parseBackendUrl('rpc').kind).toBe('rpc');
    expect(parseBackendUrl(undefined).kind).toBe('disabled');
    expect(parseBackendUrl('disabled://').kind).toBe('disabled');
    expect(() => parseBackendUrl('mongodb://h/db')).toThrow(/Unsupported result backend/);
  });

  it('reads CELERY_RESULT_BACKEND first', () => {
    expect(backendUrlFromEnv({ CELERY_RESULT_BACKEND: 'rpc://' }, 'redis://').kind).toBe('rpc');
    expect(backendUrlFromEnv({}, 'redis://').kind).toBe('redis');
  });
});
