import { isPyDict, type PyValue } from '../serialization/py-values';
import { Chain, Chord, Group, maybeUnrollGroup } from './primitives';
import { groupRef, taskRef, type ResultRef } from './result-ref';
import { stripChordHeaderLinks } from './walk';
import type { Signature } from './signature';
import { chainedChordKwargs, quirksOf } from '../protocol/line-quirks';
import {
  cloneOptions,
  maybeSignature,
  type CanvasEnv,
  type FreezeArgs,
  type OptValue,
} from './signature';

/** `group._freeze_group_tasks`: the group id and each flattened member's frozen result. */
export function freezeGroupTasks(
  g: Group,
  env: CanvasEnv,
  a: FreezeArgs,
): { gid: string; results: ResultRef[] } {
  const o = g.options;
  let gid = o.task_id;
  if (typeof gid !== 'string') {
    gid = env.uuid();
    o.task_id = gid;
  }
  if (a.groupId) o.group_id = a.groupId;
  if (a.chord) o.chord = a.chord;
  if (a.groupIndex !== undefined && a.groupIndex !== null) o.group_index = a.groupIndex;
  if (!('root_id' in o)) o.root_id = a.rootId ?? null;
  if (!('parent_id' in o)) o.parent_id = a.parentId ?? null;
  const rootId = o.root_id as string | null;
  const parentId = o.parent_id as string | null;
  // `_freeze_unroll`: nested groups are flattened (`deque.extendleft`, hence reversed).
  const stack: OptValue[] = [...g.tasks];
  const newTasks: Signature[] = [];
  const results: ResultRef[] = [];
  let index = 0;
  while (stack.length > 0) {
    const task = maybeSignature(stack.shift())?.clone();
    if (!task) continue;
    if (task instanceof Group) {
      for (const t of task.tasks) stack.unshift(t);
      continue;
    }
    if (task instanceof Chain && task.tasks.length === 0) continue;
    newTasks.push(task);
    results.push(
      freeze(task, env, {
        groupId: a.groupId ?? null,
        chord: a.chord ?? null,
        rootId,
        parentId,
        groupIndex: index,
      }),
    );
    index += 1;
  }
  g.tasks = newTasks;
  return { gid, results };
}

/** `_chord.freeze`: header frozen with the body as `chord`, then the body; returns the body's. */
function freezeChord(c: Chord, env: CanvasEnv, a: FreezeArgs): ResultRef {
  const h = c.header;
  const header = h instanceof Group ? h : new Group(c.headerTasks);
  c.header = header;
  const { gid, results } = freezeGroupTasks(header, env, {
    parentId: a.parentId ?? null,
    rootId: a.rootId ?? null,
    chord: c.body,
  });
  const headerResult = groupRef(gid, results);
  c.id = gid;
  const body = c.body;
  if (!body) return headerResult;
  const bodyResult = freeze(body, env, {
    id: a.id ?? null,
    rootId: a.rootId ?? null,
    chord: a.chord ?? null,
    groupId: a.groupId ?? null,
    groupIndex: a.groupIndex ?? null,
  });
  // Link the first result without a parent (the body may be a chain) back to the header.
  let node: ResultRef = bodyResult;
  const seen = new Set<string>();
  for (;;) {
    if (seen.has(node.id)) throw new RangeError('Recursive result parents');
    seen.add(node.id);
    if (node.parent === null) {
      node.parent = headerResult;
      return bodyResult;
    }
    node = node.parent;
  }
}

/** Freeze any signature (`sig.freeze(...)`), dispatching on its canvas type. */
export function freeze(s: Signature, env: CanvasEnv, a: FreezeArgs = {}): ResultRef {
  if (s instanceof Group) {
    const { gid, results } = freezeGroupTasks(s, env, a);
    return groupRef(gid, results);
  }
  if (s instanceof Chord) return freezeChord(s, env, a);
  if (s instanceof Chain) {
    const { results } = prepareSteps(s, env, {
      args: s.args,
      kwargs: {},
      tasks: s.tasks,
      rootId: a.rootId ?? null,
      parentId: a.parentId ?? null,
      linkError: [],
      lastTaskId: a.id ?? null,
      groupId: a.groupId ?? null,
      chordBody: a.chord ?? null,
      clone: false,
      groupIndex: a.groupIndex ?? null,
    });
    const first = results[0];
    if (!first) throw new RangeError('cannot freeze an empty chain');
    return first;
  }
  return taskRef(s.freeze(env, a));
}

/** Inputs of {@link prepareSteps} (`_chain.prepare_steps`). */
export interface PrepareArgs {
  args: readonly PyValue[];
  kwargs: Readonly<Record<string, PyValue>>;
  tasks: readonly Signature[];
  rootId: string | null;
  parentId: string | null;
  linkError: readonly Signature[];
  lastTaskId: string | null;
  groupId: string | null;
  chordBody: Signature | null;
  clone: boolean;
  groupIndex: number | null;
}

function isChainLedByTask(body: Signature | null): body is Chain {
  return body instanceof Chain && body.tasks.length > 0 && !(body.tasks[0] instanceof Group);
}

/** `_chord._unroll_body`: `chord(h, chain(a, b, c))` → `chord(h, a), b, c` (5.7.0). */
function unrollBody(c: Chord): Signature[] {
  const body = c.body;
  if (!(body instanceof Chain)) return [c];
  const task = new Chord(c.header instanceof Group ? c.header : c.headerTasks, null, {
    args: c.args,
    kwargs: { kwargs: c.kwargs.kwargs ?? {} },
    options: cloneOptions(c.options),
    immutable: c.immutable,
  });
  const bodyTasks = body.tasks.map((t) => t.clone());
  const firstOpts: Record<string, OptValue> = {};
  const run = ['chord', 'group_id', 'group_index', 'link', 'link_error', 'parent_id', 'root_id'];
  for (const [k, v] of Object.entries(body.options)) {
    if (!run.includes(k) && k !== 'task_id') firstOpts[k] = v;
  }
  const [head, ...rest] = bodyTasks;
  task.body = head ? head.clone([], {}, firstOpts) : null;
  return [task, ...rest];
}

/**
 * `_chain.prepare_steps`: walk the chain backwards, freezing each step (ids are assigned from the
 * last task to the first), splicing nested chains and upgrading `group | task` into a chord. The
 * returned `tasks` are in reverse order, ready to travel as the `chain` message field.
 */
export function prepareSteps(
  owner: Signature,
  env: CanvasEnv,
  p: PrepareArgs,
): { tasks: Signature[]; results: ResultRef[] } {
  const useLink = env.protocol === 1;
  const quirks = quirksOf(env.profile);
  const steps: Signature[] = [...p.tasks];
  let stripped: Signature | null = null;
  while (steps.length > 0) {
    let head = steps[0];
    if (!head) break;
    if (head instanceof Chain) {
      steps.shift();
      steps.unshift(...(p.clone ? head.tasks.map((t) => t.clone()) : head.tasks));
      continue;
    }
    if (head instanceof Group) {
      head = steps[0] = maybeUnrollGroup(head);
      if (steps.length > 1 && head instanceof Group && head.tasks.length === 0) {
        stripped = steps.shift() ?? null;
        continue;
      }
    }
    break;
  }
  if (stripped && steps.length === 0) steps.push(stripped);

  let prevTask: Signature | null = null;
  let prevRes: ResultRef | null = null;
  const tasks: Signature[] = [];
  const results: ResultRef[] = [];
  let i = 0;
  while (steps.length > 0) {
    let task = steps.pop();
    if (!task) break;
    const isFirst = steps.length === 0;
    const isLast = i === 0;
    if (task instanceof Group) {
      task = maybeUnrollGroup(task);
      if (task instanceof Group && task.tasks.length === 0 && (steps.length > 0 || prevTask))
        continue;
    }
    if (quirks.unrollChordBody && p.clone && task instanceof Chord && isChainLedByTask(task.body)) {
      steps.push(...unrollBody(task));
      continue;
    }
    if (p.clone) {
      // `task.clone(args, kwargs)` merges the partial args (none for an immutable task).
      task = isFirst ? task.clone(p.args, p.kwargs) : task.clone();
      // ≤5.1: `Signature.clone` rebuilds a chord through `_chord.from_dict`, one `kwargs` level deeper.
      const inner = task instanceof Chord ? task.kwargs.kwargs : undefined;
      if (isPyDict(inner)) task.kwargs.kwargs = chainedChordKwargs(env.profile, inner);
    } else if (isFirst) task.args = [...p.args, ...task.args];
    if (task instanceof Chain) {
      steps.push(...task.tasks);
      continue;
    }
    if (task instanceof Group && prevTask) {
      // group(...) | s  →  chord(group, s), frozen as one step.
      tasks.pop();
      const bodyRes = results.pop() ?? null;
      task = new Chord(task, prevTask, {
        options: bodyRes ? { task_id: bodyRes.id, root_id: p.rootId } : { root_id: p.rootId },
      });
      prevTask = tasks[tasks.length - 1] ?? null;
      let node: ResultRef | null = results[results.length - 1] ?? null;
      while (node !== null && node.parent !== bodyRes) node = node.parent;
      if (node !== null) {
        node.parent = null;
        prevRes = node;
      }
    }
    const res = isLast
      ? freeze(task, env, {
          id: p.lastTaskId,
          rootId: p.rootId,
          groupId: p.groupId,
          chord: p.chordBody,
          groupIndex: p.groupIndex,
        })
      : freeze(task, env, { rootId: p.rootId });
    i += 1;
    if (prevTask) {
      if (useLink) task.link(prevTask);
      if (prevRes && !prevRes.parent) prevRes.parent = res;
    }
    for (const eb of p.linkError) {
      task.linkError(eb);
      if (task instanceof Chord && task.body) task.body.linkError(eb);
    }
    tasks.push(task);
    results.push(res);
    prevTask = task;
    prevRes = res;
    if (task instanceof Chord) {
      let node: ResultRef = res;
      while (node.parent) node = node.parent;
      prevRes = node;
    }
  }
  const first = results[0];
  if (first) owner.id = first.id;
  if (p.clone && quirks.stripChordHeaderLinks) for (const t of tasks) stripChordHeaderLinks(t);
  return { tasks, results };
}
