import { applyAsync, type CanvasHost } from '../canvas/apply';
import { freeze } from '../canvas/freeze';
import { Chain, Chord, Group, chain } from '../canvas/primitives';
import { Signature, signature, type OptValue } from '../canvas/signature';
import type { PyValue } from '../serialization/py-values';
import { Ignore, PythonError } from './exceptions';
import type { TaskRequestInfo } from './task';

/** `celery.exceptions.ImproperlyConfigured`, as `Task.replace` raises it. */
function improperlyConfigured(message: string): PythonError {
  return new PythonError('ImproperlyConfigured', message, { excModule: 'celery.exceptions' });
}

/** `Signature.__or__`: a chain, a chord whose body grows, or `group | sig` upgraded to a chord. */
function pipe(a: Signature, b: Signature): Signature {
  if (a instanceof Group && !(b instanceof Group) && !(b instanceof Chain)) return new Chord(a, b);
  const c = chain(a, b);
  // `_chord.__or__` returns the chord itself with the body extended, never a one-step chain.
  if (c instanceof Chain && c.tasks.length === 1 && c.tasks[0]) return c.tasks[0];
  return c;
}

function accumulate(): Signature {
  // `self.app.tasks['celery.accumulate'].s(index=0)`
  return new Signature('celery.accumulate', { kwargs: { index: 0 } });
}

function list(v: readonly PyValue[] | null): readonly PyValue[] {
  return v ?? [];
}

/**
 * `celery/app/task.py`, `Task.replace` up to `on_replace`: the signature that runs in the
 * replaced task's place. Groups are uplifted to a chord with `celery.accumulate` (so callbacks
 * can hang on the body); the request's callbacks/errbacks move onto it (a chain's links go down
 * to its last task); it is frozen with the replaced task's id; `chord`, `group_id`,
 * `group_index`, `root_id` and `replaced_task_nesting + 1` are set; and the rest of the
 * request's chain is appended after it.
 */
export function buildReplacement(
  given: Signature,
  req: TaskRequestInfo,
  host: CanvasHost,
): Signature {
  let sig = given;
  if ('chord' in sig.options) {
    throw improperlyConfigured('A signature replacing a task must not be part of a chord');
  }
  if (sig instanceof Chain && sig.tasks.length === 0) {
    throw improperlyConfigured('Cannot replace with an empty chain');
  }
  if (sig instanceof Group) sig = new Chord(sig, accumulate());
  if (sig instanceof Chain) {
    const tasks = sig.tasks;
    const last = tasks[tasks.length - 1];
    if (last instanceof Group) {
      tasks[tasks.length - 1] = new Chord(last, accumulate());
      sig.tasks = tasks;
    }
  }
  for (const cb of list(req.callbacks)) sig.link(signature(cb));
  for (const eb of list(req.errbacks)) sig.linkError(signature(eb));
  if (sig instanceof Chain && 'link' in sig.options) {
    const tasks = sig.tasks;
    const final = tasks[tasks.length - 1];
    const links = sig.options.link;
    delete sig.options.link;
    if (final) {
      for (const l of Array.isArray(links) ? (links as readonly OptValue[]) : [links]) {
        if (l instanceof Signature) final.link(l);
        else final.link(signature(l as PyValue));
      }
      sig.tasks = tasks;
    }
  }
  freeze(sig, host, { id: req.id });
  const nesting = req.replacedTaskNesting + 1;
  sig.set({
    chord: req.chord,
    group_id: req.group,
    group_index: req.groupIndex,
    root_id: req.rootId,
    replaced_task_nesting: nesting,
  });
  if (sig instanceof Chain) {
    const tasks = sig.tasks;
    for (const t of tasks) t.set({ replaced_task_nesting: nesting });
    sig.tasks = tasks;
  }
  // The message's chain is stored last-to-run first: `reversed()` walks it in running order.
  for (const t of [...list(req.chain)].reverse()) {
    sig = pipe(sig, signature(t).set({ replaced_task_nesting: nesting }));
  }
  return sig;
}

/** `Task.on_replace` (not eager): `sig.delay()`, then `Ignore('Replaced by new task')`. */
export async function replaceTask(
  given: Signature,
  req: TaskRequestInfo,
  host: CanvasHost,
): Promise<never> {
  const sig = buildReplacement(given, req, host);
  await applyAsync(sig, host);
  throw new Ignore('Replaced by new task');
}

/**
 * `Task.add_to_chord(sig, lazy)`: `sig` joins the current task's chord (same group, index and
 * chord body), the backend counts one more member, and it is sent unless `lazy`.
 */
export async function addToChord(
  sig: Signature,
  req: TaskRequestInfo,
  host: CanvasHost,
  incr: ((groupId: string) => Promise<void>) | undefined,
  lazy: boolean,
): Promise<string> {
  if (req.chord === null) {
    throw new PythonError('ValueError', 'Current task is not member of any chord');
  }
  if (!incr || req.group === null) {
    throw new PythonError('NotImplementedError', 'Backend does not support add_to_chord');
  }
  sig.set({
    group_id: req.group,
    group_index: req.groupIndex,
    chord: req.chord,
    root_id: req.rootId,
  });
  const ref = freeze(sig, host);
  await incr(req.group);
  if (!lazy) await applyAsync(sig, host);
  return ref.id;
}
