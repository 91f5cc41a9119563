import { AsyncLocalStorage } from 'node:async_hooks';
import type { PyValue } from '../serialization/py-values';

/**
 * The task a worker is running in this async context: Celery's `app.current_worker_task`
 * (`_task_stack.top` outside `called_directly`). What the task body sends inherits it, as
 * `send_task` does: `parent_id` = its id, `root_id` = its root (or its id), and with
 * `task_inherit_parent_priority` its delivery priority; and each send is recorded as one of its
 * `children` (`add_to_parent=True`, `Task.add_trail`) for the stored result's meta.
 */
export interface CurrentWorkerTask {
  readonly id: string;
  readonly rootId: string | null;
  /** `request.delivery_info['priority']`. */
  readonly priority: number | null;
  /** `request.children`: result tuples (`AsyncResult.as_tuple()`) in send order. */
  readonly children: PyValue[];
}

/**
 * One store per thread even when two copies of this library are loaded (the CLI from one
 * install, the app module importing another, or `src` under tsx beside `dist`): the worker
 * sets it, the app's client reads it.
 */
const KEY = Symbol.for('celery-wire.current-worker-task');
const holder = globalThis as { [KEY]?: AsyncLocalStorage<CurrentWorkerTask> | undefined };
const store = (holder[KEY] ??= new AsyncLocalStorage<CurrentWorkerTask>());

/** Run a task body with `task` as the current worker task (the executor's `push_request`). */
export function runAsWorkerTask<T>(task: CurrentWorkerTask, body: () => T): T {
  return store.run(task, body);
}

/** The running worker task of this async context, if any. */
export function currentWorkerTask(): CurrentWorkerTask | undefined {
  return store.getStore();
}

/** `parent.add_trail(result)`: record a result tuple as a child of the running task. */
export function addTrail(tuple: PyValue): void {
  store.getStore()?.children.push(tuple);
}

/**
 * The defaults `send_task` takes from the running worker task for a call made in its body, for
 * the ids the call left unset: `root_id = parent.request.root_id or parent.request.id`,
 * `parent_id = parent.request.id`, and with `task_inherit_parent_priority` its priority.
 */
export function parentDefaults(
  given: { rootId: string | null; parentId: string | null; priority: boolean },
  inheritPriority: boolean,
): { rootId?: string; parentId?: string; priority?: number } {
  const parent = store.getStore();
  if (!parent) return {};
  return {
    ...(given.rootId === null ? { rootId: parent.rootId ?? parent.id } : {}),
    ...(given.parentId === null ? { parentId: parent.id } : {}),
    ...(inheritPriority && !given.priority && parent.priority !== null
      ? { priority: parent.priority }
      : {}),
  };
}

/** {@link parentDefaults} applied to the client's camelCase call options. */
export function inheritFromParent<
  O extends { rootId?: string; parentId?: string; priority?: number },
>(opts: O, inheritPriority: boolean): O {
  if (!store.getStore()) return opts;
  const d = parentDefaults(
    {
      rootId: opts.rootId === undefined || opts.rootId === '' ? null : opts.rootId,
      parentId: opts.parentId === undefined || opts.parentId === '' ? null : opts.parentId,
      priority: opts.priority !== undefined,
    },
    inheritPriority,
  );
  return { ...opts, ...d };
}
