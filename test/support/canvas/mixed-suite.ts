import { randomUUID } from 'node:crypto';
import { createApp, type CeleryApp } from '../../../src/app/app';
import { startPythonWorker, type PythonWorker } from '../client/python-worker';
import { TaskFailedError } from '../../../src/errors/errors';
import { startWorker } from '../worker/int-helpers';
import type { Worker } from '../../../src/worker/worker';
import { applyCanvas } from '../../../src/canvas/index';
import { chain, chord, group } from '../../../src/canvas/primitives';
import type { GroupResult } from '../../../src/canvas/results';
import { type CanvasTaskResult } from '../../../src/canvas/results';
import { pyCanvas, sq, type CanvasCombo } from './py-suite';

/**
 * Canvases whose steps run on a real Python worker (queue `py-…`) and our TypeScript worker
 * (queue `ts-…`) at once, started from either language.
 */
export function mixedLanguageCanvas(combo: CanvasCombo): void {
  const tag = `${combo.broker.split(':')[0] ?? ''} celery ${combo.line}`;
  describe(`mixed Python/Node canvases (${tag})`, () => {
    const id = randomUUID().slice(0, 8);
    const py = `py-${id}`;
    const ts = `ts-${id}`;
    let pyWorker: PythonWorker | undefined;
    let tsWorker: Worker | undefined;
    let app: CeleryApp;
    const t = { timeout: 25 };

    beforeAll(async () => {
      [pyWorker, tsWorker] = await Promise.all([
        startPythonWorker({
          line: combo.line,
          brokerUrl: combo.broker,
          resultBackend: combo.backend,
          queues: py,
        }),
        startWorker(
          { brokerUrl: combo.broker, resultBackend: combo.backend, celeryLine: combo.line },
          { queues: [ts] },
        ),
      ]);
      app = createApp({
        env: {},
        brokerUrl: combo.broker,
        resultBackend: combo.backend,
        celeryLine: combo.line,
      });
    });
    afterAll(async () => {
      await app.close();
      await Promise.all([tsWorker?.shutdown(), pyWorker?.stop()]);
    });

    it('chain Python → Node → Python, started from Node', async () => {
      const r = (await applyCanvas(
        chain(sq(py, 'add', 2, 3), sq(ts, 'mul', 4), sq(py, 'add', 1)),
        app,
      )) as CanvasTaskResult;
      expect(await r.get(t)).toBe(21);
      expect(await (r.parent as CanvasTaskResult).get(t)).toBe(20);
    });

    it('chain Python → Node → Python, started from Python', async () => {
      const out = (await pyCanvas(combo, 'chain', py, ts, py)) as {
        value: number;
        parents: string[];
      };
      expect(out.value).toBe(21);
      expect(out.parents).toHaveLength(3);
      // The middle step ran on Node and stored its SUCCESS with the next step as its child.
      const meta = await app.asyncResult(out.parents[1] ?? '').meta();
      expect(meta.result).toBe(20);
      expect(meta.children).toEqual([[[out.parents[2], null], null]]);
    });

    it('chord with header on both sides, body on Python (started from Node)', async () => {
      const r = (await applyCanvas(
        chord([sq(py, 'add', 1, 1), sq(ts, 'mul', 2, 3), sq(ts, 'add', 4, 4)], sq(py, 'tsum')),
        app,
      )) as CanvasTaskResult;
      expect(await r.get(t)).toBe(16);
    });

    it('chord with header on both sides, body on Node (started from Python)', async () => {
      const out = (await pyCanvas(combo, 'chord', ts, py, ts, py)) as { value: number };
      // add(1, 1) + add(2, 2) + add(3, 3)
      expect(out.value).toBe(12);
    });

    it('group of mixed tasks, gathered by Python GroupResult.get()', async () => {
      const r = (await applyCanvas(
        group(sq(py, 'add', 1, 2), sq(ts, 'mul', 3, 4), sq(ts, 'identity', 'n')),
        app,
      )) as GroupResult;
      await r.save();
      expect(await pyCanvas(combo, 'gather', r.id)).toEqual([3, 12, 'n']);
      expect(await r.join(t)).toEqual([3, 12, 'n']);
    });

    it('chain whose next step is a chord is applied by the Node worker', async () => {
      const r = (await applyCanvas(
        chain(sq(ts, 'add', 1, 2), group(sq(py, 'mul', 2), sq(ts, 'mul', 3)), sq(py, 'tsum')),
        app,
      )) as CanvasTaskResult;
      expect(await r.get(t)).toBe(15);
    });

    it('several callbacks of a Node task go out as one group', async () => {
      const [a, b] = [randomUUID(), randomUUID()];
      const r = (await applyCanvas(sq(ts, 'add', 1, 2), app, {
        options: {
          link: [
            sq(py, 'identity').set({ task_id: a }).toDict(),
            sq(ts, 'identity').set({ task_id: b }).toDict(),
          ],
        },
      })) as CanvasTaskResult;
      expect(await r.get(t)).toBe(3);
      expect(await app.asyncResult(a).get(t)).toBe(3);
      expect(await app.asyncResult(b).get(t)).toBe(3);
      const [child] = (await r.meta()).children as [[[string, null], [[[string, null], null]]]];
      expect(child[1].map((c) => c[0][0])).toEqual([a, b]);
    });

    it('errbacks cross languages both ways', async () => {
      const eb1 = randomUUID();
      const r1 = (await applyCanvas(sq(ts, 'fail'), app, {
        options: { link_error: sq(py, 'identity').set({ task_id: eb1 }).toDict() },
      })) as CanvasTaskResult;
      await expect(r1.get(t)).rejects.toBeInstanceOf(TaskFailedError);
      expect(await app.asyncResult(eb1).get(t)).toBe(r1.id);
      const eb2 = randomUUID();
      const r2 = (await applyCanvas(sq(py, 'fail'), app, {
        options: { link_error: sq(ts, 'identity').set({ task_id: eb2 }).toDict() },
      })) as CanvasTaskResult;
      await expect(r2.get(t)).rejects.toBeInstanceOf(TaskFailedError);
      expect(await app.asyncResult(eb2).get(t)).toBe(r2.id);
    });

    it('chord member failing on Node fails the Python body with ChordError', async () => {
      const r = (await applyCanvas(
        chord([sq(py, 'add', 1, 1), sq(ts, 'fail')], sq(py, 'tsum')),
        app,
      )) as CanvasTaskResult;
      const err = await r.get(t).then(
        () => null,
        (e: unknown) => e,
      );
      expect((err as TaskFailedError).excType).toBe('ChordError');
      const failed = (r.parent as GroupResult).results[1]?.id ?? '';
      expect((err as TaskFailedError).message).toContain(
        `Dependency ${failed} raised ValueError('boom')`,
      );
    });
  });
}
