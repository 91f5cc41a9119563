import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RedisBroker } from '../../../src/brokers/redis/redis-broker';
import { BrokerConnectionError, BrokerError } from '../../../src/errors/errors';
import { startWorker, uniq } from '../../support/worker/int-helpers';
import { freePort } from '../redis-private';
import { pySend } from './py-estate';

/**
 * Issue 10, TLS: a private TLS-only redis-server (scripts/redis-tls.sh, certificates made by
 * openssl for this run) with a password and mutual TLS. rediss:// with ssl_cert_reqs,
 * ssl_ca_certs, ssl_certfile, ssl_keyfile; redis_backend_use_ssl; a real Celery 5.7 producer
 * using the same URL; a wrong CA and a wrong password fail with typed errors naming the reason.
 */
const SCRIPT = resolve(__dirname, '..', '..', '..', 'scripts', 'redis-tls.sh');

describe('Redis over TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cw-tls-'));
  let port = 0;
  const url = (ca = 'ca.pem', pass = 'sekret'): string =>
    `rediss://:${pass}@127.0.0.1:${String(port)}/0?ssl_cert_reqs=required` +
    `&ssl_ca_certs=${join(dir, ca)}&ssl_certfile=${join(dir, 'client.pem')}` +
    `&ssl_keyfile=${join(dir, 'client.key')}`;
  beforeAll(async () => {
    port = await freePort();
    execFileSync(SCRIPT, ['certs', dir], { stdio: 'pipe' });
    execFileSync(
      SCRIPT,
      ['start', String(port), dir, '--requirepass', 'sekret', '--tls-auth-clients', 'yes'],
      { stdio: 'pipe' },
    );
  });
  afterAll(() => {
    execFileSync(SCRIPT, ['stop', dir], { stdio: 'pipe' });
    rmSync(dir, { recursive: true, force: true });
  });

  it('mutual TLS with certificates: a Celery 5.7 producer and a TS worker share the queue', async () => {
    const queue = uniq('cw-tls');
    const backendSsl = {
      ssl_cert_reqs: 'required',
      ssl_ca_certs: join(dir, 'ca.pem'),
      ssl_certfile: join(dir, 'client.pem'),
      ssl_keyfile: join(dir, 'client.key'),
    };
    const backendUrl = `rediss://:sekret@127.0.0.1:${String(port)}/1`;
    const worker = await startWorker(
      { brokerUrl: url(), resultBackend: backendUrl, redisBackendUseSsl: backendSsl },
      { queues: [queue] },
    );
    try {
      const out = await pySend(
        '5.7',
        url(),
        backendUrl,
        { redis_backend_use_ssl: backendSsl },
        queue,
        [{ id: 'a', task: 'conformance.add', args: [20, 22] }],
      );
      expect(out).toEqual({ a: 42 });
    } finally {
      await worker.shutdown();
    }
  }, 90_000);

  it('a wrong CA is rejected with a typed error naming the certificate problem', async () => {
    const broker = new RedisBroker({ url: url('other-ca.pem'), backoff: () => undefined });
    const err = await broker.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BrokerConnectionError);
    expect((err as Error).message).toMatch(/certificate/i);
    await broker.close();
  });

  it('a wrong password is rejected with a typed error naming WRONGPASS', async () => {
    const broker = new RedisBroker({ url: url('ca.pem', 'nope'), backoff: () => undefined });
    const err = await broker.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BrokerError);
    expect((err as Error).message).toMatch(/WRONGPASS/);
    await broker.close();
  });
});
