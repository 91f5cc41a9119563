import {
  applyCanvas,
  createApp,
  defineTask,
  group,
  PythonError,
  signature,
  type CeleryApp,
  type TaskContext,
} from 'celery-wire';

/**
 * `parent.ts_*` of python-peers/peer/parent_peer.py for the CLI worker: `parent.ts_spawn` sends
 * from its body as `parent.py_spawn` does (a sendTask, a second sendTask, one with
 * `addToParent: false`, a group), through an app of its own, as a user's module would.
 */
const PY_QUEUE = process.env.PARENT_PY_QUEUE ?? 'parent-py';
const TS_QUEUE = process.env.PARENT_TS_QUEUE ?? 'parent-ts';
const queueOf = (task: string): string => (task.startsWith('parent.ts_') ? TS_QUEUE : PY_QUEUE);

let app: CeleryApp | undefined;
const sender = (): CeleryApp =>
  (app ??= createApp({
    brokerUrl: process.env.CELERY_BROKER_URL ?? 'redis://127.0.0.1:6379/0',
    resultBackend: process.env.CELERY_RESULT_BACKEND ?? 'redis://127.0.0.1:6379/0',
    taskInheritParentPriority: process.env.PARENT_INHERIT_PRIORITY === '1',
  }));

export const tsLeaf = defineTask(
  'parent.ts_leaf',
  (ctx: TaskContext, x: number) => [ctx.rootId, ctx.parentId, x],
  { bind: true, pool: 'prefork' },
);

export const tsSpawn = defineTask(
  'parent.ts_spawn',
  async (leaf: string) => {
    const a = sender();
    const queue = queueOf(leaf);
    const r1 = await a.sendTask(leaf, { args: [1], queue });
    const r2 = await a.sendTask(leaf, { args: [2], queue });
    const r3 = await a.sendTask(leaf, { args: [3], queue, addToParent: false });
    const g = await applyCanvas(
      group(
        signature(leaf, { args: [4], options: { queue } }),
        signature(leaf, { args: [5], options: { queue } }),
      ),
      a,
    );
    const members = 'results' in g ? g.results.map((r) => r.id) : [];
    return [r1.id, r2.id, r3.id, g.id, members];
  },
  { pool: 'prefork' },
);

/** Fails after sending one leaf: the FAILURE keeps the child, as `mark_as_failure(request=…)`. */
export const tsSpawnFail = defineTask(
  'parent.ts_spawn_fail',
  async (leaf: string) => {
    const r = await sender().sendTask(leaf, { args: [1], queue: queueOf(leaf) });
    throw new PythonError('ValueError', r.id);
  },
  { pool: 'prefork' },
);

export default [tsLeaf, tsSpawn, tsSpawnFail];
