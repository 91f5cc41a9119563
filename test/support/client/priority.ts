import { randomUUID } from 'node:crypto';
import { createApp } from '../../../src/app/app';
import { startPythonWorker } from './python-worker';

/**
 * Enqueue tasks of different priorities while no worker consumes, then start a real worker
 * (prefetch 1) and read the execution order from the stored `date_done`s.
 */
export function prioritySuite(
  brokerUrl: string,
  backendUrl: string,
  expectedOrder: readonly number[],
): void {
  it(`serves priorities in order ${expectedOrder.join(',')}`, async () => {
    const queue = `cw-prio-${randomUUID().slice(0, 8)}`;
    const app = createApp({
      env: {},
      brokerUrl,
      resultBackend: backendUrl,
      taskDefaultQueue: queue,
      taskQueueMaxPriority: 10,
    });
    try {
      const sent = [];
      for (const p of [9, 0, 6, 3]) {
        sent.push({ p, r: await app.sendTask('conformance.add', { args: [p, 0], priority: p }) });
      }
      const worker = await startPythonWorker({
        line: '5.7',
        brokerUrl,
        resultBackend: backendUrl,
        queues: queue,
        queueMaxPriority: 10,
        extraArgs: ['--prefetch-multiplier=1'],
      });
      try {
        const done = await Promise.all(
          sent.map(async ({ p, r }) => {
            await r.get({ timeout: 20 });
            const meta = await (await app.backend()).getTaskMeta(r.id);
            return { p, at: meta.dateDone ?? '' };
          }),
        );
        done.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
        expect(done.map((d) => d.p)).toEqual(expectedOrder);
      } finally {
        await worker.stop();
      }
    } finally {
      await app.close();
    }
  });
}
