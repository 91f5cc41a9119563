import { createApp } from '../../src/app/app';
import { applyCanvas, chain, chord, group, s } from '../../src/canvas';
import type { CeleryLine } from '../../src/config/config';
import type { Worker } from '../../src/worker/worker';
import {
  createVhost,
  estateConfig,
  PY_CANVAS,
  pyProduce,
  quorumTasks,
  startPyQuorumWorker,
  topologyOf,
  type Where,
} from '../support/quorum/estate';

/**
 * Issue 9: Celery 5.5 / 5.6 / 5.7 quorum-queue estates (`task_default_queue_type='quorum'`,
 * topic exchange) against a real Python worker and producer of the line, each estate in its own
 * vhost. Countdowns must arrive through the native delay exchanges: the delivery's routing key
 * then carries the 28 binary digits kombu prepends (`calculate_routing_key`).
 */
const DELAYED = (queue: string): RegExp => new RegExp(`^([01]\\.){28}${queue}$`);
const bits = (n: number): string => `${n.toString(2).padStart(28, '0').split('').join('.')}.`;

function estateSuite(line: CeleryLine): void {
  describe(`Celery ${line} quorum-queue estate`, () => {
    const queue = 'quorum-tasks';
    let pyTopology: Awaited<ReturnType<typeof topologyOf>> | undefined;

    test('Python declares first; the TS worker joins and runs plain, countdown and retry tasks from a Python producer', async () => {
      const vhost = await createVhost(`quorum-${line}-py`);
      let worker: Worker | undefined;
      const app = createApp({ ...estateConfig(line, vhost.url, queue), tasks: quorumTasks });
      try {
        const py = await startPyQuorumWorker(line, vhost.url, queue);
        await py.stop();
        pyTopology = await topologyOf(vhost.name);
        worker = app.worker({ queues: [queue], logger: { log: () => undefined } });
        await worker.start();
        const [plain, delayed, retried, ...canvas] = await pyProduce(line, vhost.url, queue, [
          { task: 'quorum.add', args: [2, 3] },
          { task: 'quorum.where', countdown: 3 },
          { task: 'quorum.flaky', args: [2] },
          ...PY_CANVAS,
        ]);
        // Canvas from Python on the redis backend, run by the TS worker (chord joined by it).
        expect(canvas.map((c) => c.value)).toEqual([113, [2, 4], 12]);
        expect(plain?.value).toBe(5);
        const d = delayed?.value as Where;
        expect(d.routing_key).toBe(`${bits(3)}${queue}`);
        expect(d.at - (delayed?.published ?? 0)).toBeGreaterThanOrEqual(2.9);
        const r = retried?.value as Where;
        expect(r.retries).toBe(1);
        expect(r.routing_key).toMatch(DELAYED(queue));
        expect(r.routing_key?.startsWith(bits(2))).toBe(true);
      } finally {
        await worker?.shutdown();
        await app.close();
        await vhost.drop();
      }
    }, 180_000);

    test('TS declares first exactly as Celery does; a Python worker joins; Node countdowns reach it through the delay exchanges, canvas too', async () => {
      const vhost = await createVhost(`quorum-${line}-ts`);
      let worker: Worker | undefined;
      const app = createApp({ ...estateConfig(line, vhost.url, queue), tasks: quorumTasks });
      let py: Awaited<ReturnType<typeof startPyQuorumWorker>> | undefined;
      try {
        worker = app.worker({ queues: [queue], logger: { log: () => undefined } });
        await worker.start();
        await worker.shutdown();
        worker = undefined;
        const ts = await topologyOf(vhost.name);
        // Declared by the Python worker of the same line on the same broker (first test).
        expect(ts).toEqual(pyTopology);
        expect(ts.queues.filter((q) => q.startsWith('celery_delayed_'))).toHaveLength(28);
        py = await startPyQuorumWorker(line, vhost.url, queue);
        const plain = await app.sendTask('quorum.add', { args: [4, 5] });
        const t0 = Date.now() / 1000;
        const delayed = await app.sendTask<Where>('quorum.where', { countdown: 3 });
        const retried = await app.sendTask<Where>('quorum.flaky', { args: [2] });
        expect(await plain.get({ timeout: 30 })).toBe(9);
        const d = await delayed.get({ timeout: 60 });
        expect(d.routing_key).toBe(`${bits(3)}${queue}`);
        expect(d.at - t0).toBeGreaterThanOrEqual(2.9);
        const r = await retried.get({ timeout: 60 });
        expect(r.retries).toBe(1);
        expect(r.routing_key).toMatch(DELAYED(queue));
        // Canvas from Node on the redis backend, run (and the chord joined) by the Python worker.
        const c = await applyCanvas(
          chain(s('quorum.add', [1, 2]), s('quorum.add', [10]), s('quorum.add', [100])),
          app,
        );
        expect(await c.get({ timeout: 60 })).toBe(113);
        const g = await applyCanvas(group(s('quorum.add', [1, 1]), s('quorum.add', [2, 2])), app);
        expect(await g.get({ timeout: 60 })).toEqual([2, 4]);
        const ch = await applyCanvas(
          chord([s('quorum.add', [1, 1]), s('quorum.add', [2, 2])], s('quorum.tsum')),
          app,
        );
        expect(await ch.get({ timeout: 60 })).toBe(6);
      } finally {
        await worker?.shutdown();
        await py?.stop();
        await app.close();
        await vhost.drop();
      }
    }, 180_000);
  });
}

estateSuite('5.7');
estateSuite('5.6');
estateSuite('5.5');
