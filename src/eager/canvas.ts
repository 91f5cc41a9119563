import { randomUUID } from 'node:crypto';
import { splitOptions } from '../canvas/host';
import { Chain, Chord, Group } from '../canvas/primitives';
import { GroupResult, type CanvasResult } from '../canvas/results';
import { toPy, type OptValue, type Signature } from '../canvas/signature';
import type { PyValue } from '../serialization/py-values';
import { EagerResult } from './eager-result';
import { applyEagerly, type EagerHost } from './run-task';

type Options = Readonly<Record<string, OptValue>>;

const isEmptyGroup = (s: Signature): boolean => s instanceof Group && s.tasks.length === 0;

/** The same result with another `parent` (`res.parent = last`). */
function withParent(host: EagerHost, r: CanvasResult, parent: CanvasResult | null): CanvasResult {
  if (r instanceof EagerResult) return r.withParent(parent);
  if (r instanceof GroupResult) return new GroupResult(r.id, r.results, host.client, parent);
  return r;
}

/** The state of an eager result; groups have none. */
async function stateOf(r: CanvasResult): Promise<string | null> {
  return r instanceof EagerResult ? await r.state : null;
}

/** `Signature.apply`: `_merge` the partial args/kwargs/options (None dropped), then `Task.apply`. */
async function applyTask(
  host: EagerHost,
  sig: Signature,
  args: readonly PyValue[],
  kwargs: Readonly<Record<string, PyValue>>,
  options: Options,
): Promise<CanvasResult> {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== null));
  const m = sig.merge(args, kwargs, given);
  const py: Record<string, PyValue> = {};
  for (const [k, v] of Object.entries(m.options)) py[k] = toPy(v);
  const kw: Record<string, PyValue> = {};
  for (const [k, v] of Object.entries(m.kwargs)) kw[k] = toPy(v);
  const { apply } = splitOptions(py);
  // `Task.apply` builds its request from these only: routing, eta, group, chain are not used.
  return applyEagerly(host, sig.task, {
    args: m.args,
    kwargs: kw,
    ...(apply.taskId === undefined ? {} : { taskId: apply.taskId }),
    ...(apply.link === undefined ? {} : { link: apply.link }),
    ...(apply.linkError === undefined ? {} : { linkError: apply.linkError }),
    ...(apply.ignoreResult === undefined ? {} : { ignoreResult: apply.ignoreResult }),
    ...(apply.retries === undefined ? {} : { retries: apply.retries }),
    ...(apply.headers === undefined ? {} : { headers: apply.headers }),
  });
}

/**
 * `_chain.apply` (Celery 5.7): each step runs with the previous step's `get()` (which throws if
 * it failed, ending the whole call), `parent` links the results, empty groups are skipped, a
 * chain-level `link` goes to the last executed step (a chord's body), and a step that ends
 * IGNORED or REJECTED stops the chain. Returns the last result.
 */
async function applyChain(
  host: EagerHost,
  chain: Chain,
  args: readonly PyValue[],
  kwargs: Readonly<Record<string, PyValue>>,
  options: Options,
): Promise<CanvasResult | null> {
  const tasks = chain.tasks;
  const taskOptions: Record<string, OptValue> = { ...chain.options, ...options };
  const link = taskOptions.link;
  delete taskOptions.link;
  let lastIndex = tasks.length - 1;
  for (let i = tasks.length - 1; i >= 0; i--) {
    const t = tasks[i];
    if (t && !isEmptyGroup(t)) {
      lastIndex = i;
      break;
    }
  }
  let last: CanvasResult | null = null;
  let fargs = args;
  let fkwargs = kwargs;
  for (const [index, task] of tasks.entries()) {
    if (isEmptyGroup(task) && (index < tasks.length - 1 || last !== null)) continue;
    const clone = task.clone();
    if (link !== undefined && link !== null && index === lastIndex) {
      const target = clone instanceof Chord ? clone.body : clone;
      const links = Array.isArray(link) ? (link as readonly (PyValue | Signature)[]) : [link];
      for (const l of links) target?.appendToListOption('link', l as PyValue | Signature);
    }
    const input: PyValue[] = last ? [await last.get()] : [...fargs];
    const res: CanvasResult = await applySignatureEagerly(host, clone, input, fkwargs, taskOptions);
    last = withParent(host, res, last);
    fargs = [];
    fkwargs = {};
    const st = await stateOf(last);
    if (st === 'IGNORED' || st === 'REJECTED') break;
  }
  return last;
}

/** `group._prepared`: members cloned, nested groups flattened, partial args for each. */
function flatten(tasks: readonly Signature[]): Signature[] {
  return tasks.flatMap((t) => (t instanceof Group ? flatten(t.tasks) : [t.clone()]));
}

/**
 * `group.apply`: the group id is `task_id` or a new uuid (`_freeze_gid`); every member is applied
 * in order with the same partial args; nothing is saved. An empty group is an empty result.
 */
async function applyGroup(
  host: EagerHost,
  g: Group,
  args: readonly PyValue[],
  kwargs: Readonly<Record<string, PyValue>>,
  options: Options,
): Promise<GroupResult> {
  const merged: Record<string, OptValue> = { ...g.options, ...options };
  const gid = typeof merged.task_id === 'string' ? merged.task_id : randomUUID();
  delete merged.task_id;
  const results: CanvasResult[] = [];
  for (const sig of flatten(g.tasks)) {
    results.push(await applySignatureEagerly(host, sig, args, kwargs, merged));
  }
  return new GroupResult(gid, results, host.client);
}

/** `_chord.apply`: the header as a group, then the body with `[header.get()]` prepended. */
async function applyChord(
  host: EagerHost,
  c: Chord,
  args: readonly PyValue[],
  kwargs: Readonly<Record<string, PyValue>>,
): Promise<CanvasResult | null> {
  const header = new Group(c.headerTasks.map((t) => t.clone()));
  const values = await (await applyGroup(host, header, args, kwargs, {})).get();
  const body = c.body;
  if (!body) return null;
  return applySignatureEagerly(host, body, [values], {}, {});
}

/**
 * `sig.apply(args, kwargs, **options)` for any canvas, as `apply_async` does under
 * `task_always_eager` (`celery/canvas.py`). Results are {@link EagerResult}s and
 * `GroupResult`s of them.
 */
export async function applySignatureEagerly(
  host: EagerHost,
  sig: Signature,
  args: readonly PyValue[] = [],
  kwargs: Readonly<Record<string, PyValue>> = {},
  options: Options = {},
): Promise<CanvasResult> {
  let r: CanvasResult | null;
  if (sig instanceof Chord) r = await applyChord(host, sig, args, kwargs);
  else if (sig instanceof Chain) r = await applyChain(host, sig, args, kwargs, options);
  else if (sig instanceof Group) r = await applyGroup(host, sig, args, kwargs, options);
  else r = await applyTask(host, sig, args, kwargs, options);
  // An empty chain or a chord without body: Celery returns None; an empty group result here.
  return r ?? new GroupResult(randomUUID(), [], host.client);
}
