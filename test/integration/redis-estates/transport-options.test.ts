import { Redis } from 'ioredis';
import { createApp } from '../../../src/app/app';
import { startWorker, uniq } from '../../support/worker/int-helpers';
import { pySend, pyWorker } from './py-estate';

/**
 * Issue 10: the transport options that change the wire, each side using the same settings, on
 * Celery 5.7 and 5.2, both directions (Python producer → TS worker, TS producer → Python
 * worker): global_keyprefix (broker and backend), sep, priority_steps, queue_order_strategy,
 * visibility_timeout. DB 6 of the shared Redis.
 */
const URL = 'redis://127.0.0.1:6379/6';

describe.each(['5.7', '5.2'] as const)('Redis transport options, Celery %s', (line) => {
  const admin = new Redis(URL);
  afterAll(() => {
    admin.disconnect();
  });
  const settings = (prefix: string) => ({
    broker_transport_options: {
      global_keyprefix: prefix,
      sep: ':',
      priority_steps: [0, 2, 4, 6, 8],
      queue_order_strategy: 'priority',
      visibility_timeout: 600,
    },
    result_backend_transport_options: { global_keyprefix: prefix },
  });
  const tsConfig = (prefix: string) => ({
    brokerUrl: URL,
    resultBackend: URL,
    celeryLine: line,
    brokerTransportOptions: settings(prefix).broker_transport_options,
    resultBackendTransportOptions: settings(prefix).result_backend_transport_options,
  });

  it('Python producer → TS worker', async () => {
    const prefix = `${uniq('cwpfx')}:`;
    const queue = uniq('cw-opt');
    const worker = await startWorker(tsConfig(prefix), { queues: [queue] });
    try {
      const out = await pySend(line, URL, URL, settings(prefix), queue, [
        { id: 'p0', task: 'conformance.add', args: [1, 2] },
        { id: 'p5', task: 'conformance.add', args: [2, 3], priority: 5 },
        { id: 'p9', task: 'conformance.add', args: [4, 5], priority: 9 },
      ]);
      expect(out).toEqual({ p0: 3, p5: 5, p9: 9 });
    } finally {
      await worker.shutdown();
    }
    // Everything kombu wrote is under the prefix; nothing under the bare names.
    expect(await admin.exists(`${prefix}_kombu.binding.${queue}`)).toBe(1);
    expect(await admin.exists(`_kombu.binding.${queue}`)).toBe(0);
    const member = (await admin.smembers(`${prefix}_kombu.binding.${queue}`))[0];
    expect(member).toBe(`${queue}::${queue}`); // sep ':' in the binding member
  }, 120_000);

  it('TS producer → Python worker', async () => {
    const prefix = `${uniq('cwpfx')}:`;
    const queue = uniq('cw-opt');
    const py = await pyWorker(line, URL, URL, settings(prefix), queue, `${uniq('py')}@%h`);
    const app = createApp({ ...tsConfig(prefix), env: {} });
    try {
      const results = await Promise.all(
        [
          [0, 1, 1],
          [3, 2, 2],
          [8, 40, 2],
        ].map(async ([priority, a, b]) => {
          const r = await app.sendTask('conformance.add', {
            args: [a ?? 0, b ?? 0],
            queue,
            ...(priority ? { priority } : {}),
          });
          return r.get({ timeout: 30 });
        }),
      );
      expect(results).toEqual([2, 4, 42]);
      // The Python side stored results under the prefix, where our client found them.
      // Celery 5.2 has no backend key prefix (added in 5.3): both sides ignore the option.
      expect((await admin.keys(`${prefix}celery-task-meta-*`)).length).toBe(line === '5.7' ? 3 : 0);
    } finally {
      await app.close();
      await py.stop();
    }
  }, 120_000);

  it('priority lists are the ones kombu reads: a TS message at priority 5 lands in <q>:4', async () => {
    const prefix = `${uniq('cwpfx')}:`;
    const queue = uniq('cw-opt');
    const app = createApp({ ...tsConfig(prefix), env: {} });
    try {
      await app.sendTask('conformance.add', {
        args: [1, 1],
        queue,
        priority: 5,
        ignoreResult: true,
      });
      expect(await admin.llen(`${prefix}${queue}:4`)).toBe(1);
      // …and a Python worker with the same options consumes it.
      const py = await pyWorker(line, URL, URL, settings(prefix), queue, `${uniq('py')}@%h`);
      try {
        const end = Date.now() + 20_000;
        while ((await admin.llen(`${prefix}${queue}:4`)) > 0 && Date.now() < end)
          await new Promise((r) => setTimeout(r, 100));
        expect(await admin.llen(`${prefix}${queue}:4`)).toBe(0);
        while (!py.log().includes('succeeded') && Date.now() < end + 10_000)
          await new Promise((r) => setTimeout(r, 100));
        expect(py.log()).toMatch(/conformance\.add\[[0-9a-f-]+\] succeeded/);
      } finally {
        await py.stop();
      }
    } finally {
      await app.close();
    }
  }, 120_000);
});
