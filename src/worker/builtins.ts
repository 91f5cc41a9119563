import { isPyDict, type PyValue } from '../serialization/py-values';
import type { ProgressionHost } from '../canvas/progression';
import { bindArgs } from './bind-args';
import { chordUnlockTask } from './chord-unlock';
import { NotRegistered, PythonError } from './exceptions';
import { defineTask, type TaskContext, type TaskDefinition, type TaskRegistry } from './task';

/** The task name inside a signature dict argument (`signature(task, app=app).type`). */
function innerTask(registry: TaskRegistry, sig: PyValue): TaskDefinition {
  const name = isPyDict(sig) ? sig.task : sig;
  if (typeof name !== 'string') throw new PythonError('TypeError', 'task must be a signature');
  const def = registry.get(name);
  if (def === undefined) throw new NotRegistered(name);
  return def;
}

/**
 * Run a registered task inline, as Celery's `Task.__call__` does inside `celery.map`: no message,
 * no result of its own; a bound task sees the calling task's request.
 */
async function callInline(
  def: TaskDefinition,
  ctx: TaskContext,
  args: readonly PyValue[],
): Promise<PyValue> {
  const handler = def.handler as (...a: unknown[]) => unknown;
  const bound = bindArgs(def, args, {});
  return (await (def.options.bind === true
    ? handler(ctx, ...bound)
    : handler(...bound))) as PyValue;
}

function items(it: PyValue): readonly PyValue[] {
  if (!Array.isArray(it)) throw new PythonError('TypeError', 'it must be a list');
  return it as readonly PyValue[];
}

/**
 * Celery's built-in `celery.map` and `celery.starmap` (`celery/app/builtins.py`,
 * `add_map_task`/`add_starmap_task`): apply a local task to every item and return the list. They
 * are what `task.map(it)`, `task.starmap(it)` and each chunk of `task.chunks(it, n)` send.
 */
export function builtinTasks(
  registry: TaskRegistry,
  chord?: { host: () => ProgressionHost | null; retryInterval: number },
): TaskDefinition[] {
  return [
    // `celery.chord_unlock` for backends without a native join (chord-unlock.ts).
    ...(chord ? [chordUnlockTask(chord.host, chord.retryInterval)] : []),
    // `celery.accumulate` (`add_accumulate_task`): the body `Task.replace` hangs on a group.
    defineTask('celery.accumulate', (...all: PyValue[]) => {
      const kw = (all.at(-1) ?? {}) as Record<string, PyValue>;
      const args = all.slice(0, -1);
      const index = kw.index;
      return typeof index === 'number' ? (args.at(index) ?? null) : args;
    }),
    defineTask(
      'celery.map',
      async (ctx: TaskContext, task: PyValue, it: PyValue) => {
        const def = innerTask(registry, task);
        const out: PyValue[] = [];
        for (const item of items(it)) out.push(await callInline(def, ctx, [item]));
        return out;
      },
      { params: ['task', 'it'], bind: true },
    ),
    defineTask(
      'celery.starmap',
      async (ctx: TaskContext, task: PyValue, it: PyValue) => {
        const def = innerTask(registry, task);
        const out: PyValue[] = [];
        for (const item of items(it)) {
          if (!Array.isArray(item))
            throw new PythonError('TypeError', 'starmap items must be lists');
          out.push(await callInline(def, ctx, item as readonly PyValue[]));
        }
        return out;
      },
      { params: ['task', 'it'], bind: true },
    ),
  ];
}
