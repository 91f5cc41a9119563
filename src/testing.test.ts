import { createApp } from './app/app';
import { createBackend, createBroker } from './app/factories';
import { applyCanvas } from './canvas/index';
import { chain, chord, group } from './canvas/primitives';
import { GroupResult } from './canvas/results';
import { s } from './canvas/signature';
import { MemoryBroker } from './brokers/memory/memory-broker';
import { MemoryBackend } from './backends/memory/memory-backend';
import type { PyValue } from './serialization/py-values';
import { PythonError } from './worker/exceptions';
import { defineTask, type TaskContext } from './worker/task';
import { Worker } from './worker/worker';
import { createTestApp, startWorker, withWorker } from './testing';

const num = (v: unknown): number => Number(v);
const add = defineTask('t.add', (x: PyValue, y: PyValue) => num(x) + num(y), {
  params: ['x', 'y'],
});
const tsum = defineTask('t.tsum', (xs: PyValue[]) => xs.reduce<number>((a, b) => a + num(b), 0), {
  params: ['xs'],
});

describe('celery-wire/testing: the real worker over memory://', () => {
  it('retries with countdown are held by the worker until the fake clock reaches them', async () => {
    const flaky = defineTask(
      't.flaky',
      (ctx: TaskContext) => (ctx.retries < 1 ? ctx.retry({ countdown: 30 }) : ctx.retries),
      { bind: true, params: [] },
    );
    const app = createTestApp({ tasks: [flaky] });
    jest.useFakeTimers();
    try {
      await withWorker(app, async (w) => {
        const r = await app.sendTask('t.flaky');
        await w.idle();
        expect(await r.state).toBe('RETRY');
        expect(w.worker.state.scheduled.size).toBe(1);
        await jest.advanceTimersByTimeAsync(29_000);
        await w.idle();
        expect(await r.state).toBe('RETRY');
        await jest.advanceTimersByTimeAsync(1_000);
        await w.idle();
        expect(await r.get()).toBe(1);
      });
    } finally {
      jest.useRealTimers();
      await app.close();
    }
  });

  it('chains, groups and chords run through the worker and the in-memory chord join', async () => {
    const app = createTestApp({ tasks: [add, tsum] });
    await withWorker(
      app,
      async () => {
        const c = await applyCanvas(chain(s('t.add', [1, 2]), s('t.add', [3])), app);
        expect(await c.get({ timeout: 5 })).toBe(6);
        const g = await applyCanvas(group(s('t.add', [1, 1]), s('t.add', [2, 2])), app);
        expect(await g.get({ timeout: 5 })).toEqual([2, 4]);
        const header = [0, 1, 2, 3].map((i) => s('t.add', [i, i]));
        const ch = await applyCanvas(chord(header, s('t.tsum')), app);
        expect(await ch.get({ timeout: 5 })).toBe(12);
      },
      { concurrency: 3 },
    );
    await app.close();
  });

  it('a failing chord header fails the body with ChordError semantics', async () => {
    const boom = defineTask(
      't.boom',
      () => {
        throw new PythonError('ValueError', 'boom');
      },
      { params: [] },
    );
    const app = createTestApp({ tasks: [add, tsum, boom] });
    await withWorker(app, async (w) => {
      const ch = await applyCanvas(chord([s('t.add', [1, 1]), s('t.boom')], s('t.tsum')), app);
      await expect(ch.get({ timeout: 5 })).rejects.toThrow(/ChordError: Dependency .* raised/);
      await w.idle();
    });
    await app.close();
  });

  it('GroupResult save/restore on the in-memory backend', async () => {
    const app = createTestApp({ tasks: [add] });
    await withWorker(app, async () => {
      const g = await applyCanvas(group(s('t.add', [1, 1]), s('t.add', [2, 2])), app);
      if (!(g instanceof GroupResult)) throw new Error('expected a GroupResult');
      await g.save();
      const back = await GroupResult.restore(g.id, app.client);
      expect(back?.results.map((r) => r.id)).toEqual(g.results.map((r) => r.id));
      expect(await back?.get({ timeout: 5 })).toEqual([2, 4]);
    });
    await app.close();
  });

  it('acks_late work in flight at a cold shutdown is redelivered to the next worker', async () => {
    let release: (() => void) | undefined;
    let runs = 0;
    const slow = defineTask(
      't.slow',
      async () => {
        runs++;
        if (runs === 1) await new Promise<void>((r) => (release = r));
        return runs;
      },
      { params: [], acksLate: true },
    );
    const app = createTestApp({ tasks: [slow] });
    const first = await startWorker(app);
    const r = await app.sendTask('t.slow');
    while (runs === 0) await new Promise((res) => setImmediate(res));
    await first.worker.shutdown({ cold: true });
    release?.();
    const broker = await app.broker();
    if (!(broker instanceof MemoryBroker)) throw new Error('expected the memory broker');
    expect(broker.size('celery')).toBe(1);
    await withWorker(app, async () => {
      expect(await r.get({ timeout: 5 })).toBe(2);
    });
    await app.close();
  });

  it('idle() gives up with a timeout while a task is still running', async () => {
    let release: (() => void) | undefined;
    const hang = defineTask('t.hang', () => new Promise<void>((r) => (release = r)), {
      params: [],
    });
    const app = createTestApp({ tasks: [hang] });
    await withWorker(app, async (w) => {
      await app.sendTask('t.hang');
      await expect(w.idle({ timeoutMs: 50 })).rejects.toThrow('not idle');
      release?.();
      await w.idle();
    });
    await app.close();
  });

  it('logs in Celery words go to TestWorker.logs', async () => {
    const app = createTestApp({ tasks: [add] });
    await withWorker(app, async (w) => {
      await (await app.sendTask('t.add', { args: [1, 2] })).get({ timeout: 5 });
      await w.idle();
      expect(w.logs.some((l) => /^INFO Task t\.add\[.*\] succeeded in /.test(l))).toBe(true);
    });
    await app.close();
  });
});

describe('memory:// and cache+memory:// by URL', () => {
  it('an app and a separately built worker share queues and results through the URL', async () => {
    const config = {
      brokerUrl: 'memory://by-url-test',
      resultBackend: 'cache+memory://by-url-test',
    };
    const app = createApp(config);
    const broker = createBroker(app.config);
    expect(broker).toBeInstanceOf(MemoryBroker);
    const backend = createBackend(app.config, broker);
    expect(backend).toBeInstanceOf(MemoryBackend);
    const worker = new Worker({
      broker,
      backend,
      config,
      tasks: [add],
      logger: { log: () => undefined },
    });
    await worker.start();
    expect(await (await app.sendTask('t.add', { args: [20, 22] })).get({ timeout: 5 })).toBe(42);
    await worker.shutdown();
    await app.close();
    // `memory://` as result_backend: accepted as an alias of cache+memory:// (Celery refuses it).
    expect(createBackend({ ...app.config, resultBackend: 'memory://' }, broker)).toBeInstanceOf(
      MemoryBackend,
    );
  });

  it('eager mode refuses a task name nobody registered (NotRegistered)', async () => {
    const app = createApp({ taskAlwaysEager: true, tasks: [add] });
    await expect(app.sendTask('py.not.registered')).rejects.toMatchObject({
      excType: 'NotRegistered',
    });
  });
});
