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
  type Where,
} from '../support/quorum/estate';

/**
 * Issue 9, the "done when" gaps of quorum-estates.test.ts: (a) Python declares first and a Node
 * client sends to the Python worker — plain, countdown through the delay exchanges, and canvas
 * (chain, group, chord) on the redis result backend; (b) TS declares first and a Python producer
 * sends plain, countdown, retry and canvas to the TS worker; (c) a mixed fleet: a Python and a
 * TS worker consume the same quorum queue, fed by a Python producer of the line (canvas too).
 */
const bits = (n: number): string => `${n.toString(2).padStart(28, '0').split('').join('.')}.`;

function fleetSuite(line: CeleryLine): void {
  describe(`Celery ${line} quorum-queue estate`, () => {
    const queue = 'quorum-tasks';

    test('Python declares first; Node sends plain, countdown, retry and canvas (redis backend) to the Python worker', async () => {
      const vhost = await createVhost(`quorum-${line}-canvas`);
      const app = createApp({ ...estateConfig(line, vhost.url, queue), tasks: quorumTasks });
      const py = await startPyQuorumWorker(line, vhost.url, queue);
      try {
        expect(
          await (await app.sendTask('quorum.add', { args: [1, 2] })).get({ timeout: 30 }),
        ).toBe(3);
        const t0 = Date.now() / 1000;
        const d = await (
          await app.sendTask<Where>('quorum.where', { countdown: 2 })
        ).get({
          timeout: 60,
        });
        expect(d.routing_key).toBe(`${bits(2)}${queue}`);
        expect(d.at - t0).toBeGreaterThanOrEqual(1.9);
        expect(d.host).toMatch(/^py-/);
        const r = await (
          await app.sendTask<Where>('quorum.flaky', { args: [1] })
        ).get({
          timeout: 60,
        });
        expect(r.retries).toBe(1);
        expect(r.routing_key).toBe(`${bits(1)}${queue}`);
        const c = await applyCanvas(
          chain(s('quorum.add', [1, 2]), s('quorum.add', [10]), s('quorum.add', [100])),
          app,
        );
        expect(await c.get({ timeout: 60 })).toBe(113);
        const g = await applyCanvas(group(s('quorum.add', [1, 1]), s('quorum.add', [2, 2])), app);
        expect(await g.get({ timeout: 60 })).toEqual([2, 4]);
        const ch = await applyCanvas(
          chord(
            [s('quorum.add', [1, 1]), s('quorum.add', [2, 2]), s('quorum.add', [3, 3])],
            s('quorum.tsum'),
          ),
          app,
        );
        expect(await ch.get({ timeout: 60 })).toBe(12);
      } finally {
        await py.stop();
        await app.close();
        await vhost.drop();
      }
    }, 180_000);

    test('TS declares first; a Python producer sends plain, countdown, retry and canvas to the TS worker', async () => {
      const vhost = await createVhost(`quorum-${line}-tsfirst`);
      const app = createApp({ ...estateConfig(line, vhost.url, queue), tasks: quorumTasks });
      const worker = app.worker({
        queues: [queue],
        hostname: 'ts-first@%h',
        logger: { log: () => undefined },
      });
      try {
        await worker.start();
        const [plain, delayed, retried, ...canvas] = await pyProduce(line, vhost.url, queue, [
          { task: 'quorum.add', args: [2, 3] },
          { task: 'quorum.where', countdown: 2 },
          { task: 'quorum.flaky', args: [1] },
          ...PY_CANVAS,
        ]);
        expect(plain?.value).toBe(5);
        const d = delayed?.value as Where;
        expect(d.routing_key).toBe(`${bits(2)}${queue}`);
        expect(d.at - (delayed?.published ?? 0)).toBeGreaterThanOrEqual(1.9);
        expect(d.host).toMatch(/^ts-first@/);
        const r = retried?.value as Where;
        expect(r.retries).toBe(1);
        expect(r.routing_key).toBe(`${bits(1)}${queue}`);
        expect(canvas.map((c) => c.value)).toEqual([113, [2, 4], 12]);
      } finally {
        await worker.shutdown();
        await app.close();
        await vhost.drop();
      }
    }, 180_000);

    test('mixed fleet: a Python and a TS worker share the quorum queue; a Python producer feeds both', async () => {
      const vhost = await createVhost(`quorum-${line}-fleet`);
      const app = createApp({ ...estateConfig(line, vhost.url, queue), tasks: quorumTasks });
      let worker: Worker | undefined;
      const py = await startPyQuorumWorker(line, vhost.url, queue);
      try {
        worker = app.worker({
          queues: [queue],
          hostname: 'ts-fleet@%h',
          concurrency: 1,
          logger: { log: () => undefined },
        });
        await worker.start();
        const calls = Array.from({ length: 24 }, () => ({ task: 'quorum.where' }));
        const results = await pyProduce(line, vhost.url, queue, [
          ...calls,
          { task: 'quorum.flaky', args: [1] },
          { task: 'quorum.where', countdown: 2 },
          ...PY_CANVAS,
        ]);
        expect(results.map((r) => r.state)).toEqual(results.map(() => 'SUCCESS'));
        // Canvas members land on either worker; the chord is joined wherever its last part ran.
        expect(results.slice(-3).map((r) => r.value)).toEqual([113, [2, 4], 12]);
        const hosts = new Set(
          results.slice(0, -3).map((r) => (r.value as Where).host.split('@')[0]),
        );
        expect([...hosts].sort()).toEqual([expect.stringMatching(/^py-/), 'ts-fleet']);
      } finally {
        await worker?.shutdown();
        await py.stop();
        await app.close();
        await vhost.drop();
      }
    }, 180_000);
  });
}

fleetSuite('5.7');
fleetSuite('5.6');
fleetSuite('5.5');
