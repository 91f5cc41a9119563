/**
 * Issue 16, signed results: with `setup_security()` Celery signs *messages*; results are signed
 * only when `result_serializer='auth'` (setup_security leaves result_serializer alone:
 * `celery/security/__init__.py`, 5.7 and 5.2). Then the backend stores the `auth` body and
 * readers verify it (`Backend.decode` → `SecureSerializer.deserialize`). Here: the TS worker's
 * signed results read by Python `AsyncResult` with setup_security, Python's signed results read
 * by Node, for Celery 5.7 and 5.2 (whose `auth` packings differ), over the shared Redis. A
 * tampered or unsigned stored result is a SecurityError on both sides.
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
const SEP = Buffer.from([0, 1]);

let alice: TestIdentity;
let store: string;
let redis: Redis;

beforeAll(() => {
  alice = makeIdentity('alice');
  store = makeStore(alice);
  redis = new Redis(REDIS);
});
afterAll(() => {
  redis.disconnect();
});
afterEach(() => {
  unregisterSerializer('auth');
});

/** Celery settings of the Python side: signed tasks and signed results. */
function pySettings(): Record<string, unknown> {
  return {
    security_key: alice.keyPath,
    security_certificate: alice.certPath,
    security_cert_store: store,
    security_digest: 'sha256',
    result_serializer: 'auth',
    result_accept_content: ['auth'],
  };
}

function secureApp(line: CeleryLine): CeleryApp {
  return createApp({
    brokerUrl: REDIS,
    resultBackend: REDIS,
    celeryLine: line,
    taskSerializer: 'auth',
    acceptContent: ['auth'],
    resultSerializer: 'auth',
    resultAcceptContent: ['auth'],
    securityKey: alice.keyPath,
    securityCertificate: alice.certPath,
    securityCertStore: store,
    env: {},
    tasks,
  });
}

const metaKey = (id: string): string => `celery-task-meta-${id}`;

/** The stored document is an `auth` body: base64 of fields joined by `\x00\x01`. */
function expectSigned(raw: string | null): Buffer {
  expect(raw).not.toBeNull();
  expect(raw).toMatch(/^[A-Za-z0-9+/=]+$/);
  const fields = Buffer.from(raw ?? '', 'base64');
  expect(fields.includes(SEP)).toBe(true);
  expect(fields.includes(Buffer.from('application/json'))).toBe(true);
  return fields;
}

/** The same document with one character of its signed JSON body changed. */
function tamper(raw: string): string {
  const fields = Buffer.from(raw, 'base64');
  const at = fields.lastIndexOf(Buffer.from('"status"'));
  expect(at).toBeGreaterThan(0);
  fields[at + 1] = 'S'.charCodeAt(0); // "status" → "Status"
  return fields.toString('base64');
}

describe.each<SecurityLine>(['5.7', '5.2'])('signed results with Celery %s', (line) => {
  let py: string;
  beforeAll(() => {
    py = securityPython(line);
  }, 300_000);

  it('TS worker stores signed results; Python AsyncResult with setup_security() reads them', async () => {
    const queue = uniq(`sec-res-${line}`);
    const app = secureApp(line);
    const worker = app.worker({
      queues: [queue],
      concurrency: 1,
      hostname: `${queue}@%h`,
      logger: { log: () => undefined },
    });
    await worker.start();
    try {
      const r = await app.sendTask<number>('conformance.add', { args: [2, 3], queue });
      await expect(r.get({ timeout: 20_000 })).resolves.toBe(5);
      expectSigned(await redis.get(metaKey(r.id)));
      const out = await pySecureSend(py, REDIS, REDIS, pySettings(), queue, [
        { id: 'ts', get: r.id },
      ]);
      expect(out).toEqual({ ts: 5 });
    } finally {
      await worker.shutdown();
      await app.close();
    }
  }, 120_000);

  it('Python stores signed results; Node reads them; tampered and unsigned are refused', async () => {
    const queue = uniq(`sec-res-${line}`);
    const w = await pySecureWorker(py, REDIS, REDIS, pySettings(), queue, `${queue}@%h`);
    const app = secureApp(line);
    try {
      const r = await app.sendTask<number>('conformance.add', { args: [20, 22], queue });
      await expect(r.get({ timeout: 20_000 })).resolves.toBe(42);
      const raw = await redis.get(metaKey(r.id));
      expectSigned(raw);

      // A stored result whose body was changed after signing.
      const tamperedId = uniq('tampered');
      await redis.set(metaKey(tamperedId), tamper(raw ?? ''), 'EX', 300);
      const tampered = app.asyncResult(tamperedId).get({ timeout: 5_000 });
      await expect(tampered).rejects.toMatchObject({
        name: 'SecurityError',
        code: 'E_SECURITY',
        message: expect.stringMatching(/^Unable to deserialize: Bad signature/) as unknown,
      });
      // An unsigned (plain JSON) document where signed results are expected.
      const plainId = uniq('unsigned');
      const plainDoc = { status: 'SUCCESS', result: 1, traceback: null, children: [] };
      await redis.set(
        metaKey(plainId),
        JSON.stringify({ ...plainDoc, task_id: plainId }),
        'EX',
        300,
      );
      await expect(app.asyncResult(plainId).get({ timeout: 5_000 })).rejects.toMatchObject({
        name: 'SecurityError',
        code: 'E_SECURITY',
      });
      // Python refuses both as well.
      const pyOut = await pySecureSend(py, REDIS, REDIS, pySettings(), queue, [
        { id: 'tampered', get: tamperedId, timeout: 5 },
        { id: 'unsigned', get: plainId, timeout: 5 },
      ]);
      expect(pyOut.tampered).toEqual({ error: expect.stringMatching(/SecurityError/) as unknown });
      expect(pyOut.unsigned).toEqual({ error: expect.stringMatching(/SecurityError/) as unknown });
    } finally {
      await app.close();
      await w.stop();
    }
  }, 120_000);
});
