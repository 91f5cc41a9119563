import { applyCanvas } from '../canvas/index';
import { group } from '../canvas/primitives';
import { s } from '../canvas/signature';
import type { PyValue } from '../serialization/py-values';
import { createTestApp, withWorker } from '../testing';
import { defineTask, type TaskContext } from '../worker/task';
import { currentWorkerTask } from './current-task';

/**
 * `current_worker_task` over the real worker and memory://: what a body sends inherits its
 * parent/root ids and is recorded as `children` (`add_to_parent`), as Celery's `send_task`.
 * The same behaviour against real Celery: test/integration/subtask-parent.test.ts.
 */
const ids = defineTask('t.ids', (ctx: TaskContext) => [ctx.rootId, ctx.parentId], {
  bind: true,
  params: [],
});
describe('tasks sent from a task body (current_worker_task)', () => {
  it('inherit parent and root; sends, a group and nothing for addToParent:false become children', async () => {
    const app = createTestApp({ tasks: [ids] });
    const spawn = defineTask(
      't.spawn',
      async () => {
        const a = await app.sendTask('t.ids');
        const b = await app.sendTask('t.ids', { addToParent: false });
        const g = await applyCanvas(group(s('t.ids'), s('t.ids')), app);
        return [a.id, b.id, g.id];
      },
      { params: [] },
    );
    app.register(spawn);
    await withWorker(app, async (w) => {
      const r = await app.sendTask<[string, string, string]>('t.spawn', { rootId: 'the-root' });
      const [a, b, g] = await r.get({ timeout: 5 });
      await w.idle();
      expect(await app.asyncResult(a).get({ timeout: 5 })).toEqual(['the-root', r.id]);
      expect(await app.asyncResult(b).get({ timeout: 5 })).toEqual(['the-root', r.id]);
      const meta = await (await app.backend()).getTaskMeta(r.id);
      const children = meta.children as PyValue[];
      expect(children).toHaveLength(2);
      expect(children[0]).toEqual([[a, null], null]);
      const [head, members] = children[1] as [PyValue[], PyValue[]];
      expect(head).toEqual([g, null]);
      expect(members).toHaveLength(2);
    });
    await app.close();
  });

  it('a failing body keeps its children; outside a task there is no current task', async () => {
    expect(currentWorkerTask()).toBeUndefined();
    const app = createTestApp({ tasks: [ids] });
    let sent = '';
    const failing = defineTask(
      't.failing',
      async () => {
        sent = (await app.sendTask('t.ids')).id;
        throw new Error('boom');
      },
      { params: [] },
    );
    app.register(failing);
    await withWorker(app, async (w) => {
      const r = await app.sendTask('t.failing');
      await expect(r.get({ timeout: 5 })).rejects.toThrow('boom');
      await w.idle();
      const meta = await (await app.backend()).getTaskMeta(r.id);
      expect(meta.status).toBe('FAILURE');
      expect(meta.children).toEqual([[[sent, null], null]]);
      // A root task: its children have it as root too.
      expect(await app.asyncResult(sent).get({ timeout: 5 })).toEqual([r.id, r.id]);
    });
    await app.close();
  });
});
