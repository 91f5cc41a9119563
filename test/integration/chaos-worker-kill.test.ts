import {
  CHAOS_AMQP,
  CHAOS_REDIS,
  LedgerReader,
  figures,
  produce,
  sleep,
  startTsWorker,
} from '../support/worker/chaos';
import { uniq } from '../support/worker/int-helpers';

jest.setTimeout(180_000);

/**
 * kill -9 of the TypeScript worker (the CLI, as users run it) with acks_late, under load from a
 * real Python Celery producer. A ledger in Redis records every start and finish: no task may be
 * lost, and only tasks that were running at the kill (the at-least-once window) may run twice.
 */
describe.each([
  ['Redis', CHAOS_REDIS, '5.7'],
  ['RabbitMQ', CHAOS_AMQP, '5.2'],
  ['RabbitMQ', CHAOS_AMQP, '5.7'],
] as const)(
  'chaos: kill -9 of the TS worker with acks_late on %s (Celery %s producer)',
  (_b, broker, line) => {
    const ledger = new LedgerReader();
    afterAll(() => {
      ledger.close();
    });

    it('loses nothing; duplicates only among the tasks in flight at the kill', async () => {
      const run = uniq('kill');
      const queue = uniq('chaos-kill');
      const ids = Array.from({ length: 30 }, (_, i) => `${run}-${String(i)}`);
      const redis = broker === CHAOS_REDIS;
      // The first worker prefetches (concurrency 4 × multiplier 2): held and running messages die
      // with it. The second restores them: Redis by visibility timeout, RabbitMQ by requeue.
      const a = await startTsWorker({
        broker,
        queues: [queue],
        concurrency: 4,
        prefetchMultiplier: 2,
      });
      let b: Awaited<ReturnType<typeof startTsWorker>> | undefined;
      try {
        await produce({ broker, line }, { queue, run, ids, ms: 300 });
        for (let i = 0; i < 200; i++) {
          const l = await ledger.read(run);
          if (Object.keys(l.started).length >= 8) break;
          await sleep(50);
        }
        a.kill('SIGKILL');
        const atKill = await ledger.read(run);
        const killedAt = Date.now();
        expect(await a.exited).toBe('SIGKILL');
        b = await startTsWorker({
          broker,
          queues: [queue],
          concurrency: 4,
          prefetchMultiplier: 1,
          ...(redis ? { vtSeconds: 2 } : {}),
        });
        const final = await ledger.waitAllDone(run, ids, 90_000);
        const f = figures(ids, atKill, final, Date.now() - killedAt);
        console.log(
          `chaos kill -9 ${_b} (producer ${line}): ${JSON.stringify({ ...f, log: undefined })}`,
        );
        expect(f.lost).toEqual([]);
        for (const d of f.duplicates) expect(f.inFlight).toContain(d);
        expect(f.inFlight.length).toBeGreaterThan(0);
        // Warm shutdown of the survivor exits 0 although the app keeps its ledger client open.
        expect(await b.stop()).toBe(0);
      } finally {
        a.kill('SIGKILL');
        await b?.stop();
        await ledger.cleanup(run);
      }
    });
  },
);
