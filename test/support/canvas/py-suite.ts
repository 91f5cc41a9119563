import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { createApp, type CeleryApp } from '../../../src/app/app';
import { startPythonWorker, type PythonWorker } from '../client/python-worker';
import { TaskFailedError } from '../../../src/errors/errors';
import type { PyValue } from '../../../src/serialization/py-values';
import { applyCanvas } from '../../../src/canvas/index';
import { chain, chord, chunks, group, xmap } from '../../../src/canvas/primitives';
import { CanvasTaskResult, GroupResult } from '../../../src/canvas/results';
import { signature, type Signature } from '../../../src/canvas/signature';

const PEERS = resolve(__dirname, '../../../python-peers');
const run = promisify(execFile);

/** Broker × Celery line of one suite; the result backend is always Redis. */
export interface CanvasCombo {
  broker: string;
  backend: string;
  line: '5.7' | '5.2';
}

/** Run `python -m peer.canvas_cli …` of a line's venv; parses its JSON stdout. */
export async function pyCanvas(combo: CanvasCombo, ...argv: string[]): Promise<PyValue> {
  const { stdout } = await run(
    resolve(PEERS, `.venv-${combo.line}/bin/python`),
    ['-m', 'peer.canvas_cli', ...argv],
    {
      cwd: PEERS,
      timeout: 60_000,
      env: {
        ...process.env,
        CELERY_BROKER_URL: combo.broker,
        CELERY_RESULT_BACKEND: combo.backend,
      },
    },
  );
  return JSON.parse(stdout.trim().split('\n').pop() ?? 'null') as PyValue;
}

/** Signature helper on a queue. */
export function sq(queue: string, name: string, ...args: PyValue[]): Signature {
  return signature(`conformance.${name}`, { args, options: { queue } });
}

/**
 * Canvases started from Node, executed entirely by a real Python worker: values, ordering,
 * `parent` links, chord join (Celery's own, fed by our `.s` write), link/link_error and
 * ChordError, and a group saved by Node gathered by Python's `GroupResult.restore().get()`.
 */
export function nodeStartedOnPython(combo: CanvasCombo): void {
  describe(`Node-started canvases on a Python ${combo.line} worker (${combo.broker.split(':')[0] ?? ''})`, () => {
    const q = `cw-canvas-${randomUUID().slice(0, 8)}`;
    let worker: PythonWorker | undefined;
    let app: CeleryApp;
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
    });
    afterAll(async () => {
      await app.close();
      await worker?.stop();
    });

    it('chain: values flow, parents link back to the first step', async () => {
      const r = await applyCanvas(chain(sq(q, 'add', 2, 3), sq(q, 'mul', 4), sq(q, 'add', 1)), app);
      expect(r).toBeInstanceOf(CanvasTaskResult);
      expect(await (r as CanvasTaskResult).get(t)).toBe(21);
      const p = r.parent as CanvasTaskResult;
      expect(await p.get(t)).toBe(20);
      expect(await (p.parent as CanvasTaskResult).get(t)).toBe(5);
      expect(p.parent?.parent).toBeNull();
    });

    it('group: ordered values; saved by Node, gathered by Python', async () => {
      const r = (await applyCanvas(
        group(sq(q, 'add', 1, 1), sq(q, 'mul', 2, 3), sq(q, 'identity', 'x')),
        app,
      )) as GroupResult;
      expect(r).toBeInstanceOf(GroupResult);
      expect(await r.join(t)).toEqual([2, 6, 'x']);
      expect(await r.completedCount()).toBe(3);
      await r.save();
      const back = await GroupResult.restore(r.id, app.client);
      expect(back?.results.map((x) => x.id)).toEqual(r.results.map((x) => x.id));
      expect(await pyCanvas(combo, 'gather', r.id)).toEqual([2, 6, 'x']);
      await r.delete();
      expect(await GroupResult.restore(r.id, app.client)).toBeNull();
    });

    it('chord: Python joins the header and calls the body with ordered results', async () => {
      const r = (await applyCanvas(
        chord([sq(q, 'add', 1, 2), sq(q, 'add', 3, 4), sq(q, 'mul', 2, 2)], sq(q, 'tsum')),
        app,
      )) as CanvasTaskResult;
      expect(await r.get(t)).toBe(14);
      expect(r.parent).toBeInstanceOf(GroupResult);
      expect(await (r.parent as GroupResult).get(t)).toEqual([3, 7, 4]);
    });

    it('chain with a group in the middle is upgraded to a chord', async () => {
      const r = await applyCanvas(
        chain(sq(q, 'add', 1, 2), group(sq(q, 'mul', 2), sq(q, 'mul', 3)), sq(q, 'tsum')),
        app,
      );
      expect(await (r as CanvasTaskResult).get(t)).toBe(15);
    });

    it('chunks/xmap: Celery built-ins run them on the Python worker', async () => {
      const add = signature('conformance.add');
      const g = (await applyCanvas(
        chunks(
          add,
          [
            [1, 2],
            [3, 4],
            [5, 6],
          ],
          2,
        ).set({ queue: q }),
        app,
      )) as GroupResult;
      expect(await g.get(t)).toEqual([[3, 7], [11]]);
      const m = (await applyCanvas(
        xmap(signature('conformance.identity'), [1, 'a']).set({ queue: q }),
        app,
      )) as CanvasTaskResult;
      expect(await m.get(t)).toEqual([1, 'a']);
    });

    it('empty chord header: the body runs at once with []', async () => {
      const r = (await applyCanvas(chord([], sq(q, 'tsum')), app)) as CanvasTaskResult;
      expect(await r.get(t)).toBe(0);
    });

    it('link: the callback gets the result prepended and is listed in children', async () => {
      const cbId = randomUUID();
      const cb = sq(q, 'mul', 10).set({ task_id: cbId });
      const r = (await applyCanvas(sq(q, 'add', 1, 2), app, {
        options: { link: cb.toDict() },
      })) as CanvasTaskResult;
      expect(await r.get(t)).toBe(3);
      expect(await app.asyncResult(cbId).get(t)).toBe(30);
      const meta = await r.meta();
      expect(meta.children).toEqual([[[cbId, null], null]]);
    });

    it('link_error: old-style errback gets the failed task id', async () => {
      const ebId = randomUUID();
      const eb = sq(q, 'identity').set({ task_id: ebId });
      const r = (await applyCanvas(sq(q, 'fail'), app, {
        options: { link_error: eb.toDict() },
      })) as CanvasTaskResult;
      await expect(r.get(t)).rejects.toBeInstanceOf(TaskFailedError);
      expect(await app.asyncResult(ebId).get(t)).toBe(r.id);
    });

    it('chord with a failing member: body fails with ChordError, its errback runs', async () => {
      const ebId = randomUUID();
      const body = sq(q, 'tsum').set({
        link_error: [sq(q, 'identity').set({ task_id: ebId }).toDict()],
      });
      const r = (await applyCanvas(
        chord([sq(q, 'add', 1, 1), sq(q, 'fail')], body),
        app,
      )) as CanvasTaskResult;
      const err = await r.get(t).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TaskFailedError);
      const failed = r.parent as GroupResult;
      const failedId = failed.results[1]?.id ?? '';
      expect((err as TaskFailedError).excType).toBe('ChordError');
      expect((err as TaskFailedError).message).toContain(
        `Dependency ${failedId} raised ValueError('boom')`,
      );
      expect(await app.asyncResult(ebId).get(t)).toBe(r.id);
    });
  });
}
