/**
 * Issue 16, signed messages: `taskSerializer: 'auth'` + `app.setupSecurity()` against real Celery
 * that called `app.setup_security()` (5.7 and 5.2: the two lines pack the `auth` body
 * differently), both directions, over the shared Redis. Keys and certificates made by openssl.
 * Unsigned, tampered and unknown-signer messages are refused, logged, and never run.
 */
import { Redis } from 'ioredis';
import { createApp, type CeleryApp } from '../../src/app/app';
import type { CeleryLine } from '../../src/config/config';
import { unregisterSerializer } from '../../src/serialization/registry';
import { tasks } from '../../conformance/app/index';
import { makeIdentity, makeStore, type TestIdentity } from '../support/security-keys';
import {
  pySecureSend,
  pySecureWorker,
  securityPython,
  type SecurityLine,
} from '../support/security-peer';
import { uniq } from '../support/worker/int-helpers';

const REDIS = process.env.SECURITY_TEST_REDIS ?? 'redis://127.0.0.1:6379/12';

let alice: TestIdentity;
let mallory: TestIdentity;
let store: string;

beforeAll(() => {
  alice = makeIdentity('alice');
  mallory = makeIdentity('mallory');
  store = makeStore(alice);
});
afterEach(() => {
  unregisterSerializer('auth');
});

/**
 * A signed task message whose signed body was changed after signing: sent signed to a queue
 * nobody consumes, taken off it, `[20, 22]` → `[20, 23]` inside the `auth` body, and pushed onto
 * `queue` (the Redis transport's list), as an attacker on the broker would.
 */
async function pushTampered(app: CeleryApp, queue: string): Promise<string> {
  const park = `${queue}-park`;
  const r = await app.sendTask('conformance.add', { args: [20, 22], queue: park });
  const redis = new Redis(REDIS);
  try {
    const raw = await redis.rpop(park);
    if (raw === null) throw new Error('the parked message is missing');
    const env = JSON.parse(raw) as { body: string };
    const fields = Buffer.from(Buffer.from(env.body, 'base64').toString(), 'base64');
    const at = fields.lastIndexOf(Buffer.from('[20, 22]'));
    expect(at).toBeGreaterThan(0);
    fields[at + 6] = '3'.charCodeAt(0);
    env.body = Buffer.from(fields.toString('base64')).toString('base64');
    await redis.lpush(queue, JSON.stringify(env));
  } finally {
    redis.disconnect();
  }
  return r.id;
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !cond(); i++) await new Promise((res) => setTimeout(res, 100));
}

function pySettings(id: TestIdentity): Record<string, string> {
  return {
    security_key: id.keyPath,
    security_certificate: id.certPath,
    security_cert_store: store,
    security_digest: 'sha256',
  };
}

function secureApp(line: CeleryLine, extra: object = {}): CeleryApp {
  return createApp({
    brokerUrl: REDIS,
    resultBackend: REDIS,
    celeryLine: line,
    taskSerializer: 'auth',
    acceptContent: ['auth'],
    resultAcceptContent: ['json'],
    securityKey: alice.keyPath,
    securityCertificate: alice.certPath,
    securityCertStore: store,
    env: {},
    tasks,
    ...extra,
  });
}

describe.each<SecurityLine>(['5.7', '5.2'])('signed messages with Celery %s', (line) => {
  let py: string;
  beforeAll(() => {
    py = securityPython(line);
  }, 300_000);

  it('Node signs → Python worker with setup_security() runs it; unsigned is refused', async () => {
    const queue = uniq(`gaps-sec-${line}`);
    const w = await pySecureWorker(py, REDIS, REDIS, pySettings(alice), queue, `${queue}@%h`);
    const app = secureApp(line);
    const plain = createApp({ brokerUrl: REDIS, resultBackend: REDIS, celeryLine: line, env: {} });
    try {
      const r = await app.sendTask<number>('conformance.add', { args: [2, 3], queue });
      await expect(r.get({ timeout: 20_000 })).resolves.toBe(5);
      const u = await plain.sendTask('conformance.add', { args: [4, 4], queue });
      for (let i = 0; i < 100 && !w.log().includes('untrusted content'); i++) {
        await new Promise((res) => setTimeout(res, 100));
      }
      expect(w.log()).toMatch(/Refusing to deserialize untrusted content of type json/);
      expect(await plain.asyncResult(u.id).state).toBe('PENDING');
    } finally {
      await app.close();
      await plain.close();
      await w.stop();
    }
  }, 90_000);

  it('Python signs → TS worker verifies and runs it; unknown signer and unsigned are refused, never run', async () => {
    const queue = uniq(`gaps-sec-${line}`);
    const logs: string[] = [];
    const app = secureApp(line);
    const worker = app.worker({
      queues: [queue],
      concurrency: 2,
      hostname: `${queue}@%h`,
      logger: { log: (level, msg) => logs.push(`${level} ${msg}`) },
    });
    await worker.start();
    const plain = createApp({ brokerUrl: REDIS, resultBackend: REDIS, celeryLine: line, env: {} });
    try {
      expect(
        await pySecureSend(py, REDIS, REDIS, pySettings(alice), queue, [
          { id: 'a', task: 'conformance.add', args: [20, 22] },
        ]),
      ).toEqual({ a: 42 });
      const ran = logs.filter((l) => l.includes('succeeded')).length;
      // Signed by a key whose certificate is not in the worker's store.
      const bad = await pySecureSend(
        py,
        REDIS,
        REDIS,
        { ...pySettings(mallory), security_cert_store: makeStore(alice, mallory) },
        queue,
        [{ id: 'm', task: 'conformance.add', args: [1, 1], timeout: 3 }],
      ).catch((e: unknown) => ({ m: { error: String(e) } }));
      expect(bad.m).toHaveProperty('error');
      const u = await plain.sendTask('conformance.add', { args: [3, 3], queue });
      for (let i = 0; i < 100 && !logs.some((l) => l.includes('untrusted content')); i++) {
        await new Promise((res) => setTimeout(res, 100));
      }
      const text = logs.join('\n');
      expect(text).toMatch(/Can't decode message body: .*Unknown certificate/);
      expect(text).toMatch(/Refusing to deserialize untrusted content of type/);
      expect(await plain.asyncResult(u.id).state).toBe('PENDING');
      expect(logs.filter((l) => l.includes('succeeded')).length).toBe(ran);
    } finally {
      await worker.shutdown();
      await app.close();
      await plain.close();
    }
  }, 120_000);
  it('a tampered signed message is refused and logged by the TS and the Python worker, never run', async () => {
    const queue = uniq(`gaps-sec-tamper-${line}`);
    const logs: string[] = [];
    const app = secureApp(line);
    const worker = app.worker({
      queues: [queue],
      concurrency: 1,
      hostname: `${queue}@%h`,
      logger: { log: (level, msg) => logs.push(`${level} ${msg}`) },
    });
    await worker.start();
    const pyQueue = `${queue}-py`;
    const w = await pySecureWorker(py, REDIS, REDIS, pySettings(alice), pyQueue, `${pyQueue}@%h`);
    try {
      const tsId = await pushTampered(app, queue);
      const pyId = await pushTampered(app, pyQueue);
      await until(() => logs.some((l) => l.includes('Bad signature')));
      await until(() => w.log().includes("Can't decode message body"));
      expect(logs.join('\n')).toMatch(/Can't decode message body: .*Bad signature/);
      // Celery's own reason text is not "Bad signature" here: `celery/security/utils.py,
      // reraise_errors` catches `(cryptography.exceptions,)`, a module, so the InvalidSignature
      // becomes a TypeError on the way (5.7.0 and 5.2.7 alike). The message is refused all the same.
      expect(w.log()).toMatch(/Can't decode message body: DecodeError\(SecurityError\(/);
      expect(logs.some((l) => l.includes('succeeded'))).toBe(false);
      expect(w.log()).not.toContain('succeeded');
      expect(await app.asyncResult(tsId).state).toBe('PENDING');
      expect(await app.asyncResult(pyId).state).toBe('PENDING');
    } finally {
      await worker.shutdown();
      await app.close();
      await w.stop();
    }
  }, 120_000);
});
