import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { decodeRedisEnvelope } from '../../../src/protocol/redis-envelope';
import { decodeTaskMessage } from '../../../src/protocol/task-message';
import { createApp, type CeleryApp } from '../../../src/app/app';
import { startPythonWorker, type PythonWorker } from '../client/python-worker';
import { TaskFailedError } from '../../../src/errors/errors';
import { prepareException } from '../../../src/protocol/exception';
import type { PyValue } from '../../../src/serialization/py-values';
import { applyAsync, type CanvasHost } from '../../../src/canvas/apply';
import { canvasHost } from '../../../src/canvas/host';
import { chain, chord } from '../../../src/canvas/primitives';
import {
  afterFailure,
  chordPartReturn,
  dispatchCallbacksAndChain,
  type CanvasRequest,
  type ProgressionHost,
} from '../../../src/canvas/progression';
import type { CanvasTaskResult, GroupResult } from '../../../src/canvas/results';
import { bindResult } from '../../../src/canvas/results';
import type { CanvasCombo } from './py-suite';
import { sq } from './py-suite';

interface Held {
  name: string;
  args: readonly PyValue[];
  options: Readonly<Record<string, PyValue>>;
}

/** The request a worker would build from a held message's options. */
function requestOf(h: Held): CanvasRequest {
  const o = h.options;
  const str = (v: PyValue | undefined): string | null => (typeof v === 'string' ? v : null);
  return {
    id: str(o.task_id) ?? '',
    rootId: str(o.root_id),
    parentId: str(o.parent_id),
    groupId: str(o.group_id),
    groupIndex: typeof o.group_index === 'number' ? o.group_index : null,
    callbacks: (o.link as PyValue[] | undefined) ?? null,
    errbacks: (o.link_error as PyValue[] | undefined) ?? null,
    chain: (o.chain as PyValue[] | undefined) ?? null,
    chord: o.chord ?? null,
  };
}

/**
 * Worker-side progression run by Node (as the TypeScript worker will) against a real Python
 * worker: tasks routed to a `hold` queue are captured instead of published, and Node "executes"
 * them by calling the progression functions, sharing the Redis chord join with Python.
 */
export function progressionWithPython(combo: CanvasCombo): void {
  describe(`Node-side progression with a Python ${combo.line} worker`, () => {
    const q = `cw-prog-${randomUUID().slice(0, 8)}`;
    const hold = `${q}-hold`;
    let worker: PythonWorker | undefined;
    let app: CeleryApp;
    let held: Held[] = [];
    let host: ProgressionHost;
    let base: CanvasHost;
    const t = { timeout: 20 };

    beforeAll(async () => {
      worker = await startPythonWorker({
        line: combo.line,
        brokerUrl: combo.broker,
        resultBackend: combo.backend,
        queues: q,
      });
      app = createApp({
        env: {},
        brokerUrl: combo.broker,
        resultBackend: combo.backend,
        taskDefaultQueue: q,
        celeryLine: combo.line,
      });
      base = canvasHost(app);
      host = {
        ...base,
        backend: await app.backend(),
        sendTask: (name, args, kwargs, options) => {
          if (options.queue === hold) {
            held.push({ name, args, options });
            return Promise.resolve();
          }
          return base.sendTask(name, args, kwargs, options);
        },
      };
    });
    const heldAt = (i: number): Held => {
      const h = held[i];
      if (!h) throw new Error(`no held task #${String(i)}`);
      return h;
    };
    beforeEach(() => {
      held = [];
    });
    afterAll(async () => {
      await app.close();
      await worker?.stop();
    });

    it('chain: Node runs the first step and applies the next one to Python', async () => {
      const ref = await applyAsync(
        chain(sq(hold, 'add', 2, 3), sq(q, 'mul', 4), sq(q, 'add', 1)),
        host,
      );
      const r = bindResult(ref, app.client) as CanvasTaskResult;
      expect(held).toHaveLength(1);
      const req = requestOf(heldAt(0));
      const children = await dispatchCallbacksAndChain(req, 5, host);
      await host.backend.storeResult(req.id, 5, 'SUCCESS', { request: { children } });
      expect(await r.get(t)).toBe(21);
      expect(children).toHaveLength(1);
    });

    it('chain failure in Node: the remainder is marked FAILURE, errback runs on Python', async () => {
      const ebId = randomUUID();
      const c = chain(sq(hold, 'add', 2, 3), sq(q, 'mul', 4));
      const ref = await applyAsync(
        c,
        host,
        [],
        {},
        {
          link_error: sq(q, 'identity').set({ task_id: ebId }),
        },
      );
      const r = bindResult(ref, app.client) as CanvasTaskResult;
      const req = requestOf(heldAt(0));
      const exc = prepareException({ excType: 'KeyError', excModule: 'builtins', args: ['k'] });
      await host.backend.storeResult(req.id, exc, 'FAILURE', { traceback: 'Traceback…' });
      await afterFailure(req, exc, 'Traceback…', host);
      const err = await r.get(t).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TaskFailedError);
      expect((err as TaskFailedError).excType).toBe('KeyError');
      expect(await app.asyncResult(ebId).get(t)).toBe(req.id);
    });

    it("a callback published by Node matches the one Celery's worker publishes", async () => {
      const redis = new Redis(combo.broker);
      try {
        const pyHold = `${hold}-py`;
        const nodeHold = `${hold}-node`;
        const cbId = randomUUID();
        const cb = (queue: string): PyValue => sq(queue, 'mul', 10).set({ task_id: cbId }).toDict();
        const r = bindResult(
          await applyAsync(sq(q, 'add', 1, 2), host, [], {}, { link: [cb(pyHold)] }),
          app.client,
        ) as CanvasTaskResult;
        expect(await r.get(t)).toBe(3);
        const [pyRaw] = await redis.lrange(pyHold, 0, -1);
        expect(pyRaw).toBeDefined();
        const py = decodeTaskMessage(decodeRedisEnvelope(pyRaw ?? '').message);
        await dispatchCallbacksAndChain(
          {
            ...requestOf({ name: '', args: [], options: { task_id: r.id } }),
            rootId: r.id,
            callbacks: [cb(nodeHold)],
          },
          3,
          base,
        );
        const [nodeRaw] = await redis.lrange(nodeHold, 0, -1);
        const node = decodeTaskMessage(decodeRedisEnvelope(nodeRaw ?? '').message);
        // Celery's worker has `conformance.mul` registered, so `Task.apply_async` fills the task's
        // own `ignore_result` (False); a publisher that does not know the task (ours, or Celery's
        // `send_task`) sends the profile default (None on 5.7). Everything else is identical.
        const strip = (h: Record<string, PyValue>): Record<string, PyValue> => {
          const { origin: _o, ignore_result: _i, ...rest } = h;
          return rest;
        };
        expect(strip(node.headers)).toEqual(strip(py.headers));
        expect(node.headers.ignore_result).toBe(combo.line === '5.7' ? null : false);
        expect(node.args).toEqual(py.args);
        expect(node.embed).toEqual(py.embed);
        await redis.del(pyHold, nodeHold);
      } finally {
        redis.disconnect();
      }
    });

    it('chord: Python completes first, Node completes last and publishes the body', async () => {
      const ref = await applyAsync(
        chord([sq(hold, 'add', 1, 2), sq(q, 'add', 3, 4)], sq(q, 'tsum')),
        host,
      );
      const r = bindResult(ref, app.client) as CanvasTaskResult;
      const other = (r.parent as GroupResult).results[1] as CanvasTaskResult;
      expect(await other.get(t)).toBe(7);
      const req = requestOf(heldAt(0));
      await host.backend.storeResult(req.id, 3, 'SUCCESS', { request: { group: req.groupId } });
      await chordPartReturn(req, 'SUCCESS', 3, host);
      expect(await r.get(t)).toBe(10);
    });

    it('chord: Node completes first, Python completes last and publishes the body', async () => {
      const ref = await applyAsync(
        chord([sq(q, 'add', 1, 2), sq(hold, 'mul', 3, 4)], sq(q, 'tsum')),
        host,
      );
      const r = bindResult(ref, app.client) as CanvasTaskResult;
      const h = heldAt(0);
      const req = requestOf(h);
      await chordPartReturn(req, 'SUCCESS', 12, host);
      // Release the held header task to Python only now: Python's join then completes.
      await base.sendTask(h.name, h.args, {}, { ...h.options, queue: q });
      expect(await r.get(t)).toBe(15);
    });

    it('chord: Python member failed, Node completes last and fails the body', async () => {
      const ref = await applyAsync(
        chord([sq(q, 'fail'), sq(hold, 'add', 1, 1)], sq(q, 'tsum')),
        host,
      );
      const r = bindResult(ref, app.client) as CanvasTaskResult;
      const failed = (r.parent as GroupResult).results[0] as CanvasTaskResult;
      await failed.get({ ...t, propagate: false });
      await chordPartReturn(requestOf(heldAt(0)), 'SUCCESS', 2, host);
      const err = await r.get(t).then(
        () => null,
        (e: unknown) => e,
      );
      expect((err as TaskFailedError).excType).toBe('ChordError');
      expect((err as TaskFailedError).message).toContain(
        `Dependency ${failed.id} raised ValueError('boom')`,
      );
    });
  });
}
