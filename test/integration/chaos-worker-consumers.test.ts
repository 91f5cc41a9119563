import {
  CHAOS_AMQP,
  CHAOS_REDIS,
  LedgerReader,
  celeryControl,
  produce,
  sleep,
  startTsWorker,
} from '../support/worker/chaos';
import { uniq } from '../support/worker/int-helpers';

jest.setTimeout(180_000);

/**
 * `celery control add_consumer` / `cancel_consumer` (Celery's own CLI) while the TS worker holds
 * prefetched and ETA messages: the queue set changes on the running consumer, nothing held is
 * handed back, so every task runs exactly once (issue 8: before, an ETA task ran 3× and each
 * prefetched task 2× after one add and one cancel).
 */
describe.each([
  ['Redis', CHAOS_REDIS, '5.7'],
  ['Redis', CHAOS_REDIS, '5.2'],
  ['RabbitMQ', CHAOS_AMQP, '5.7'],
] as const)('chaos: add_consumer/cancel_consumer on %s (celery %s control)', (_b, broker, line) => {
  const ledger = new LedgerReader();
  afterAll(() => {
    ledger.close();
  });

  it('runs every prefetched, ETA and newly consumed task exactly once', async () => {
    const run = uniq('ctl');
    const q1 = uniq('chaos-q1');
    const q2 = uniq('chaos-q2');
    const w = await startTsWorker({ broker, queues: [q1], concurrency: 1, prefetchMultiplier: 4 });
    try {
      const node = w.name;
      const eta = `${run}-eta`;
      const held = Array.from({ length: 5 }, (_, i) => `${run}-p${String(i)}`);
      const later = Array.from({ length: 2 }, (_, i) => `${run}-q2-${String(i)}`);
      await produce(
        { broker, line },
        { queue: q1, run, ids: [eta], ms: 50, countdown: { [eta]: 6 } },
      );
      await produce({ broker, line }, { queue: q1, run, ids: held, ms: 600 });
      for (let i = 0; i < 100 && Object.keys((await ledger.read(run)).started).length === 0; i++) {
        await sleep(50);
      }
      // One running, the rest prefetched and the ETA one held: now change the queue set.
      const replies = [
        await celeryControl({ broker, line }, ['add_consumer', q2, '-d', node]),
        await celeryControl({ broker, line }, ['cancel_consumer', q2, '-d', node]),
        await celeryControl({ broker, line }, ['cancel_consumer', q1, '-d', node]),
        await celeryControl({ broker, line }, ['add_consumer', q1, '-d', node]),
        await celeryControl({ broker, line }, ['add_consumer', q2, '-d', node]),
      ];
      expect(replies.join('\n')).toContain(`add consumer ${q2}`);
      expect(replies.join('\n')).toContain(`no longer consuming from ${q1}`);
      await produce({ broker, line }, { queue: q2, run, ids: later, ms: 50 });
      const all = [eta, ...held, ...later];
      const final = await ledger.waitAllDone(run, all, 60_000);
      // Settle: a duplicate would show up right after the originals.
      await sleep(1500);
      const settled = await ledger.read(run);
      const runs = Object.fromEntries(all.map((id) => [id, settled.started[id] ?? 0]));
      console.log(`chaos add/cancel consumer ${_b} (celery ${line}): ${JSON.stringify(runs)}`);
      expect(Object.values(runs)).toEqual(all.map(() => 1));
      expect(final.done[eta]).toBe(1);
      expect(w.log()).not.toMatch(/ack failed|restarting the task consumer/);
      expect(await w.stop()).toBe(0);
    } finally {
      await w.stop();
      await ledger.cleanup(run);
    }
  });
});
