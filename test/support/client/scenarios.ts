import { randomUUID } from 'node:crypto';
import { createApp, type CeleryApp } from '../../../src/app/app';
import type { TaskMeta } from '../../../src/backends/backend';
import { BackendError, TaskFailedError, TaskRevokedError } from '../../../src/errors/errors';
import { PyFloat, type PyValue } from '../../../src/serialization/py-values';
import { startPythonWorker, type PythonWorker } from './python-worker';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';
export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672//';

/** One cluster shape: broker × backend × Celery line. */
export interface Combo {
  broker: string;
  backend: string;
  line: '5.7' | '5.2';
}

function label(c: Combo): string {
  return `${c.broker.split(':')[0] ?? ''}+${c.backend.split(':')[0] ?? ''} celery ${c.line}`;
}

/**
 * The client suite against a real Python worker of `combo`: every serializer and protocol over the
 * value catalogue, typed failures, countdown/eta/expires, progress, ignore_result and revoke.
 */
export function clientSuite(combo: Combo): void {
  describe(label(combo), () => {
    const queue = `cw-client-${randomUUID().slice(0, 8)}`;
    let worker: PythonWorker | undefined;
    let app: CeleryApp;

    beforeAll(async () => {
      worker = await startPythonWorker({
        line: combo.line,
        brokerUrl: combo.broker,
        resultBackend: combo.backend,
        queues: queue,
      });
      app = createApp({
        env: {},
        brokerUrl: combo.broker,
        resultBackend: combo.backend,
        taskDefaultQueue: queue,
        celeryLine: combo.line,
        resultAcceptContent: ['json', 'msgpack', 'yaml'],
      });
    });
    afterAll(async () => {
      await app.close();
      await worker?.stop();
    });

    const serializers = ['json', 'msgpack', 'yaml'] as const;
    for (const serializer of serializers) {
      for (const protocol of [1, 2] as const) {
        it(`round-trips values with ${serializer}, protocol ${String(protocol)}`, async () => {
          const big = serializer === 'msgpack' ? 2n ** 62n : 2n ** 70n;
          const nested: PyValue = { a: [1, [2, { b: null }]], 'ü☃': 'héllo ☃ 𝄞', t: true };
          const opts = { serializer, protocol };
          const add = app.task<[PyValue, PyValue]>('conformance.add', opts);
          const [r1, r2, r3, r4] = await Promise.all([
            add.delay(big, 1),
            app.sendTask('conformance.identity', { ...opts, args: [new PyFloat(1)] }),
            app.sendTask('conformance.identity', { ...opts, args: [nested] }),
            app.sendTask('conformance.mul', { ...opts, args: [6, 7] }),
          ]);
          expect(await r1.get({ timeout: 15 })).toBe(big + 1n);
          const f = await r2.get({ timeout: 15 });
          expect(f).toBeInstanceOf(PyFloat);
          expect((f as PyFloat).value).toBe(1);
          expect(await r3.get({ timeout: 15 })).toEqual(nested);
          expect(await r4.get({ timeout: 15 })).toBe(42);
        });
      }
    }

    it('echoes args and kwargs', async () => {
      const r = await app.sendTask('conformance.echo', { args: [1, 'x'], kwargs: { k: [1.5] } });
      expect(await r.get({ timeout: 15 })).toEqual({ args: [1, 'x'], kwargs: { k: [1.5] } });
    });

    it('surfaces Python exceptions as typed errors', async () => {
      const cases: [string, string, string][] = [
        ['ValueError', 'bad value', 'ValueError: bad value'],
        ['KeyError', 'nope', "KeyError: 'nope'"],
        ['RuntimeError', 'kaputt', 'RuntimeError: kaputt'],
        ['TypeError', 'wrong', 'TypeError: wrong'],
      ];
      const results = await Promise.all(
        cases.map(([t, m]) =>
          app.sendTask('conformance.fail', { kwargs: { exc_type: t, message: m } }),
        ),
      );
      for (const [i, r] of results.entries()) {
        const [type, msg, text] = cases[i] ?? ['', '', ''];
        const err = await r.get({ timeout: 15 }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(TaskFailedError);
        const e = err as TaskFailedError;
        expect([e.excType, e.excModule, e.message]).toEqual([type, 'builtins', text]);
        expect(e.excArgs).toEqual([msg]);
        expect(e.traceback).toContain(`${type}:`);
        expect(await r.failed()).toBe(true);
      }
      const r = results[0];
      expect(await r?.get({ timeout: 5, propagate: false })).toMatchObject({
        exc_type: 'ValueError',
      });
    });

    it('delays countdown and eta, expires and revokes', async () => {
      const t0 = Date.now();
      const timed = async (p: Promise<unknown>): Promise<number> => {
        await p;
        return Date.now() - t0;
      };
      const cd = await app.sendTask('conformance.add', { args: [1, 1], countdown: 2 });
      const eta = await app.sendTask('conformance.add', {
        args: [2, 2],
        eta: new Date(Date.now() + 2000),
      });
      const expired = await app.sendTask('conformance.add', {
        args: [3, 3],
        countdown: 2,
        expires: 1,
      });
      const revoked = await app.sendTask('conformance.add', { args: [4, 4], countdown: 2 });
      await revoked.revoke();
      const [cdMs, etaMs, expiredErr, revokedErr] = await Promise.all([
        timed(cd.get({ timeout: 15 })),
        timed(eta.get({ timeout: 15 })),
        expired.get({ timeout: 15 }).then(
          () => undefined,
          (e: unknown) => e,
        ),
        revoked.get({ timeout: 15 }).then(
          () => undefined,
          (e: unknown) => e,
        ),
      ]);
      expect(cdMs).toBeGreaterThanOrEqual(1900);
      expect(etaMs).toBeGreaterThanOrEqual(1900);
      expect(await cd.result).toBe(2);
      expect(expiredErr).toBeInstanceOf(TaskRevokedError);
      expect(revokedErr).toBeInstanceOf(TaskRevokedError);
      expect(await revoked.state).toBe('REVOKED');
    });

    it('reports progress states while running', async () => {
      const seen: TaskMeta[] = [];
      // countdown: get() is waiting before the states are published (states nobody waits for yet are
      // not buffered by our backends, unlike Python's unread pub/sub socket).
      const r = await app.sendTask('conformance.progress', { args: [3], countdown: 1 });
      expect(await r.get({ timeout: 15, onState: (m) => seen.push(m) })).toBe(3);
      const progress = seen.filter((m) => m.status === 'PROGRESS');
      // Redis pub/sub and RPC both deliver every state; the last one is READY.
      expect(progress.length).toBeGreaterThanOrEqual(1);
      expect(progress.at(-1)?.result).toEqual({ current: 3, total: 3 });
      expect(await r.successful()).toBe(true);
    });

    it('does not wait for ignored results', async () => {
      const r = await app.sendTask('conformance.add', { args: [1, 2], ignoreResult: true });
      await expect(r.get({ timeout: 2 })).rejects.toBeInstanceOf(BackendError);
      // The message still carried ignore_result=True: nothing is stored.
      const probe = await app.sendTask('conformance.add', { args: [0, 0] });
      expect(await probe.get({ timeout: 15 })).toBe(0);
      if (combo.backend.startsWith('redis')) expect(await r.state).toBe('PENDING');
    });
  });
}
