import { closeConnections, connectionsOfProcess } from './amqp-chaos-support';
import {
  CHAOS_AMQP,
  LedgerReader,
  produce,
  sleep,
  startTsWorker,
  type Ledger,
} from '../support/worker/chaos';
import { uniq } from '../support/worker/int-helpers';

jest.setTimeout(180_000);

const inFlight = (l: Ledger): string[] =>
  Object.keys(l.started).filter((id) => (l.started[id] ?? 0) > (l.done[id] ?? 0));

/** The instants the worker logged `Connection to broker lost` (its log lines start `[ISO: …]`). */
const lossTimes = (log: string): number[] =>
  [...log.matchAll(/^\[([^\]]+?): WARN\] consumer: Connection to broker lost/gm)].map((m) =>
    Date.parse(m[1] ?? ''),
  );

/** What was in flight when: the ledger sampled every 25 ms until `stop()`. */
function sampleInFlight(ledger: LedgerReader, run: string) {
  const samples: { at: number; ids: string[] }[] = [];
  const state = { on: true };
  const done = (async () => {
    while (state.on) {
      const ids = inFlight(await ledger.read(run));
      samples.push({ at: Date.now(), ids });
      await sleep(25);
    }
  })();
  return {
    samples,
    stop: async (): Promise<void> => {
      state.on = false;
      await done;
    },
  };
}

/**
 * Consumer resets seen by the worker: `rabbitmqctl close_connection` on every connection of the
 * TS CLI worker (remote control on, so the pidbox connection too), three times, while it holds
 * a running task, prefetched tasks and an ETA task. RabbitMQ requeues everything unacked; the
 * worker drops its void reserved/ETA requests (`Consumer.on_close`), so the redelivered copies
 * run once. Only tasks running at a cut may run twice (acks_late: at-least-once): those in
 * flight in the 500 ms before the worker logged the loss (a task that finished just before it
 * may not have had its ack reach the broker) — sampled, since rabbitmqctl can take longer than
 * a 700 ms task, so snapshots around the command miss some.
 */
describe.each(['5.7', '5.2'] as const)(
  'chaos: RabbitMQ connection cuts under the TS worker (Celery %s producer)',
  (line) => {
    const ledger = new LedgerReader();
    afterAll(() => {
      ledger.close();
    });

    it('held and ETA tasks run once after each reset; nothing is lost', async () => {
      const run = uniq('reset');
      const queue = uniq('chaos-reset');
      const eta = `${run}-eta`;
      const ids = Array.from({ length: 8 }, (_, i) => `${run}-${String(i)}`);
      const w = await startTsWorker({
        broker: CHAOS_AMQP,
        queues: [queue],
        concurrency: 1,
        prefetchMultiplier: 4,
      });
      try {
        await produce(
          { broker: CHAOS_AMQP, line },
          { queue, run, ids: [eta], ms: 50, countdown: { [eta]: 8 } },
        );
        await produce({ broker: CHAOS_AMQP, line }, { queue, run, ids, ms: 700 });
        const window = new Set<string>();
        const cutAt: number[] = [];
        const sampler = sampleInFlight(ledger, run);
        for (let cut = 0; cut < 3; cut++) {
          for (let i = 0; i < 100 && inFlight(await ledger.read(run)).length === 0; i++)
            await sleep(50);
          // After a cut the worker reconnects (kombu's backoff); wait for its new connections.
          let pids = await connectionsOfProcess(w.pid);
          for (let i = 0; i < 20 && pids.length === 0; i++) {
            await sleep(100);
            pids = await connectionsOfProcess(w.pid);
          }
          expect(pids.length).toBeGreaterThan(0);
          await closeConnections(pids, 'chaos-worker-reset');
          cutAt.push(Date.now());
          await sleep(1500);
        }
        await sampler.stop();
        const losses = lossTimes(w.log());
        for (const at of losses) {
          for (const s of sampler.samples) {
            if (s.at >= at - 500 && s.at <= at + 25) for (const id of s.ids) window.add(id);
          }
        }
        const all = [eta, ...ids];
        await ledger.waitAllDone(run, all, 90_000);
        await sleep(1500);
        const final = await ledger.read(run);
        const lost = all.filter((id) => (final.done[id] ?? 0) === 0);
        const duplicates = all.filter((id) => (final.started[id] ?? 0) > 1);
        const reconnectLines = (w.log().match(/Connection to broker lost/g) ?? []).length;
        console.log(
          `chaos RabbitMQ resets under the TS worker (producer ${line}): ${JSON.stringify({
            tasks: all.length,
            cuts: cutAt.length,
            lost,
            duplicates,
            inFlightAtCuts: [...window],
            etaRuns: final.started[eta] ?? 0,
            lostLogLines: reconnectLines,
          })}`,
        );
        expect(losses).toHaveLength(3);
        expect(lost).toEqual([]);
        for (const d of duplicates) expect([...window]).toContain(d);
        expect(final.started[eta]).toBe(1);
        expect(w.log()).not.toMatch(/ack failed/);
        expect(await w.stop()).toBe(0);
      } finally {
        await w.stop();
        await ledger.cleanup(run);
      }
    });
  },
);
