import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createApp } from '../../../src/app/app';
import { RedisBroker } from '../../../src/brokers/redis/redis-broker';
import { BrokerConnectionError, BrokerError } from '../../../src/errors/errors';
import { ROOT, startWorker, uniq } from '../../support/worker/int-helpers';
import { freePort } from '../redis-private';
import { pySend, pyWorker } from './py-estate';

/**
 * Issue 10, TLS: a private TLS-only redis-server (scripts/redis-tls.sh, certificates made by
 * openssl for this run) with a password and mutual TLS. rediss:// with ssl_cert_reqs,
 * ssl_ca_certs, ssl_certfile, ssl_keyfile; redis_backend_use_ssl; real Celery 5.7 and 5.2
 * producers and workers using the same URL, both directions. A wrong CA, a wrong password and an
 * unreachable host: the client rejects with a typed error naming the reason, the CLI worker logs
 * the reason and keeps retrying (`broker_connection_retry_on_startup`), as Celery's does.
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

  const backendSsl = (): Record<string, string> => ({
    ssl_cert_reqs: 'required',
    ssl_ca_certs: join(dir, 'ca.pem'),
    ssl_certfile: join(dir, 'client.pem'),
    ssl_keyfile: join(dir, 'client.key'),
  });
  const backendUrl = (): string => `rediss://:sekret@127.0.0.1:${String(port)}/1`;

  describe.each(['5.7', '5.2'] as const)('Celery %s', (line) => {
    it('mutual TLS: a Celery producer → a TS worker, results over TLS', async () => {
      const queue = uniq('cw-tls');
      const worker = await startWorker(
        {
          brokerUrl: url(),
          resultBackend: backendUrl(),
          redisBackendUseSsl: backendSsl(),
          celeryLine: line,
        },
        { queues: [queue] },
      );
      try {
        const out = await pySend(
          line,
          url(),
          backendUrl(),
          { redis_backend_use_ssl: backendSsl() },
          queue,
          [{ id: 'a', task: 'conformance.add', args: [20, 22] }],
        );
        expect(out).toEqual({ a: 42 });
      } finally {
        await worker.shutdown();
      }
    }, 90_000);

    it('mutual TLS: a Node producer → a Celery worker, results over TLS', async () => {
      const queue = uniq('cw-tls');
      const py = await pyWorker(
        line,
        url(),
        backendUrl(),
        { redis_backend_use_ssl: backendSsl() },
        queue,
        `${uniq('py')}@%h`,
      );
      const app = createApp({
        brokerUrl: url(),
        resultBackend: backendUrl(),
        redisBackendUseSsl: backendSsl(),
        celeryLine: line,
        env: {},
      });
      try {
        const r = await app.sendTask('conformance.add', { args: [20, 22], queue });
        expect(await r.get({ timeout: 30 })).toBe(42);
      } finally {
        await app.close();
        await py.stop();
      }
    }, 90_000);
  });

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

  // Each: a URL that cannot work, the reason the error must name.
  const CASES = ['a wrong CA', 'a wrong password', 'an unreachable host'] as const;
  const broken = (): [string, string, RegExp][] => [
    ['a wrong CA', url('other-ca.pem'), /certificate/i],
    ['a wrong password', url('ca.pem', 'nope'), /WRONGPASS/],
    [
      'an unreachable host',
      url().replace(`:${String(port)}/`, `:${String(deadPort)}/`),
      /ECONNREFUSED/,
    ],
  ];
  let deadPort = 0;
  beforeAll(async () => {
    deadPort = await freePort(); // nothing listens there
  });

  it.each(CASES)(
    '%s: the client rejects with a typed error naming the reason',
    async (name) => {
      const [, brokerUrl, reason] = broken().find(([n]) => n === name) ?? ['', '', /never/];
      const app = createApp({ brokerUrl, resultBackend: 'disabled://', env: {} });
      try {
        const err = await app
          .sendTask('conformance.add', { args: [1, 2], queue: uniq('cw-tls'), ignoreResult: true })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(BrokerError);
        expect(String(err)).toMatch(reason);
        console.log(`TLS client, ${name}: ${String(err)}`);
      } finally {
        await app.close();
      }
    },
    60_000,
  );

  it.each(CASES)(
    '%s: the CLI worker logs the reason and keeps retrying',
    async (name) => {
      const [, brokerUrl, reason] = broken().find(([n]) => n === name) ?? ['', '', /never/];
      const child = spawn(
        process.execPath,
        [
          join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
          join(ROOT, 'test', 'support', 'worker', 'int-cli.ts'),
          ...['--app', 'conformance/app/index.ts', '-Q', uniq('cw-tls'), '-n', `${uniq('tls')}@%h`],
        ],
        {
          cwd: ROOT,
          env: {
            ...process.env,
            CELERY_BROKER_URL: brokerUrl,
            CELERY_RESULT_BACKEND: 'disabled://',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      for (const s of [child.stdout, child.stderr])
        s.on('data', (b: Buffer) => (out += b.toString()));
      try {
        const end = Date.now() + 45_000;
        // Two attempts logged: it retried after the first failure and is still running.
        while (
          !/Trying again .*\(2\/100\)/.test(out) &&
          child.exitCode === null &&
          Date.now() < end
        )
          await new Promise((r) => setTimeout(r, 100));
        expect(child.exitCode).toBeNull();
        const lines = out
          .split('\n')
          .filter((l) => l.includes('consumer: Cannot connect to rediss://:**@127.0.0.1:'));
        expect(lines.length).toBeGreaterThanOrEqual(2);
        // One line per attempt, numbered 1, 2, … as Celery's (it once logged each twice).
        const tries = [...out.matchAll(/Trying again .*\((\d+)\/100\)/g)].map((m) => m[1]);
        expect(tries).toEqual(tries.map((_, i) => String(i + 1)));
        expect(lines.length).toBe(tries.length);
        for (const l of lines) expect(l).toMatch(reason);
        console.log(`TLS worker, ${name}: ${lines[0] ?? ''}`);
        expect(out).toMatch(/Trying again in .*\(1\/100\)/);
        expect(out).not.toMatch(/sekret|nope/); // the password is masked
      } finally {
        child.kill('SIGTERM');
        await new Promise((r) => setTimeout(r, 200));
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    },
    60_000,
  );
});
