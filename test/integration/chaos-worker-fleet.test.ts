import {
  CHAOS_AMQP,
  CHAOS_REDIS,
  LedgerReader,
  figures,
  produce,
  sleep,
  startPyWorker,
  startTsWorker,
  type ChaosProcess,
} from '../support/worker/chaos';
import { uniq } from '../support/worker/int-helpers';

jest.setTimeout(180_000);

/**
 * A mixed fleet: a real Python Celery worker and the TS worker (CLI) on one queue, acks_late.
 * One of them is killed with SIGKILL mid-run; the other must run what the dead one held —
 * Redis: restored from kombu's `unacked` hash after the visibility timeout (both ways: kombu's
 * `restore_visible` in Python, ours in TS); RabbitMQ: requeued by the broker on connection loss.
 */
describe.each([
  ['Redis', 'ts', '5.7', CHAOS_REDIS],
  ['Redis', 'py', '5.2', CHAOS_REDIS],
  ['RabbitMQ', 'ts', '5.2', CHAOS_AMQP],
  ['RabbitMQ', 'py', '5.7', CHAOS_AMQP],
] as const)(
  'chaos: mixed fleet on %s, the %s worker is killed (Celery %s)',
  (b, victim, line, broker) => {
    const ledger = new LedgerReader();
    afterAll(() => {
      ledger.close();
    });

    it('the survivor runs every message the killed worker held; nothing is lost', async () => {
      const run = uniq('fleet');
      const queue = uniq('chaos-fleet');
      const ids = Array.from({ length: 30 }, (_, i) => `${run}-${String(i)}`);
      const redis = broker === CHAOS_REDIS;
      // The survivor restores Redis messages older than 2 s; the victim never restores.
      const vt = (who: 'ts' | 'py'): { vtSeconds?: number } =>
        redis && who !== victim ? { vtSeconds: 2 } : {};
      const procs: ChaosProcess[] = [];
      try {
        const ts = await startTsWorker({
          broker,
          queues: [queue],
          concurrency: 2,
          prefetchMultiplier: victim === 'ts' ? 2 : 1,
          ...vt('ts'),
        });
        procs.push(ts);
        const py = await startPyWorker({ broker, queues: [queue], line, ...vt('py') });
        procs.push(py);
        const dead = victim === 'ts' ? ts : py;
        const survivor = victim === 'ts' ? py : ts;
        await produce({ broker, line }, { queue, run, ids, ms: 300 });
        // Kill once the victim has work running (its in-flight tasks are the at-least-once window).
        for (let i = 0; i < 300; i++) {
          const l = await ledger.read(run);
          const mine = l.log.filter((e) => e.startsWith('start ') && e.endsWith(` ${dead.name}`));
          if (mine.length >= 2) break;
          await sleep(30);
        }
        dead.kill('SIGKILL');
        const atKill = await ledger.read(run);
        const killedAt = Date.now();
        expect(await dead.exited).toBe('SIGKILL');
        const final = await ledger.waitAllDone(run, ids, 90_000);
        const f = figures(ids, atKill, final, Date.now() - killedAt);
        const victimInFlight = f.inFlight.filter((id) =>
          atKill.log.includes(`start ${id} ${dead.name}`),
        );
        const rerunBySurvivor = victimInFlight.filter((id) =>
          final.log.includes(`done ${id} ${survivor.name}`),
        );
        console.log(
          `chaos fleet ${b} kill ${victim} (Celery ${line}): ${JSON.stringify({ ...f, victimInFlight, rerunBySurvivor })}`,
        );
        expect(f.lost).toEqual([]);
        // The at-least-once window: what the victim was running, and what it had finished but
        // may not have acked yet (acks_late acks after the task's `done` entry, and SIGKILL can
        // fall in between). Every second run is the survivor's.
        const victimDone = ids.filter((id) => atKill.log.includes(`done ${id} ${dead.name}`));
        for (const d of f.duplicates) {
          expect([...f.inFlight, ...victimDone]).toContain(d);
          expect(final.log).toContain(`start ${d} ${survivor.name}`);
        }
        expect(victimInFlight.length).toBeGreaterThan(0);
        expect(rerunBySurvivor).toEqual(victimInFlight);
      } finally {
        for (const p of procs) await p.stop();
        await ledger.cleanup(run);
      }
    });
  },
);
