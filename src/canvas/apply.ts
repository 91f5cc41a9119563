import { InvalidTaskError } from '../errors/errors';
import { chordHeaderKwargs, quirksOf } from '../protocol/line-quirks';
import { getProfile } from '../protocol/profiles';
import { resultTuple } from '../protocol/result-meta';
import { fallbackChordUnlock } from './chord-unlock';
import type { PyValue } from '../serialization/py-values';
import { freeze, freezeGroupTasks, prepareSteps } from './freeze';
import { addBodyCallbacks, descend, stripChordHeaderLinks } from './walk';
import { Chain, Chord, chunksGroup, Group } from './primitives';
import { groupRef, taskRef, type ResultRef } from './result-ref';
import type { Signature } from './signature';
import {
  maybeSignature,
  signatureList,
  toPy,
  cloneOptions,
  type CanvasEnv,
  type OptValue,
} from './signature';

/**
 * What applying a canvas needs: the env used for freezing plus "publish one task message"
 * (Celery's `Task.apply_async` → `app.send_task`) and the backend's chord bookkeeping.
 */
export interface CanvasHost extends CanvasEnv {
  /**
   * Publish one task. `options` are Celery's snake_case apply options, already plain values
   * (`task_id`, `group_id`, `group_index`, `chord`, `chain`, `link`, `link_error`, `root_id`,
   * `parent_id`, `reply_to`, `queue`, `countdown`, …).
   */
  sendTask(
    name: string,
    args: readonly PyValue[],
    kwargs: Readonly<Record<string, PyValue>>,
    options: Readonly<Record<string, PyValue>>,
  ): Promise<void>;
  /** `backend.set_chord_size(group_id, size)`, called right before the last header publish. */
  setChordSize(groupId: string, size: number): Promise<void>;
  /** `backend.ensure_chords_allowed()`: rejects where the backend cannot join (rpc). */
  ensureChordsAllowed(): Promise<void>;
  /** True when the backend has no native join: chords go through `celery.chord_unlock`. */
  usesChordUnlock?(): Promise<boolean>;
  /**
   * `parent.add_trail(result)` when applied from a running task's body (`add_to_parent`): a
   * single task records its result, a group its `GroupResult` (its members do not).
   */
  addTrail?(ref: ResultRef): void;
}

type Opts = Record<string, OptValue>;

/** `{k: v for k, v in options.items() if v is not None}` (`Signature.apply_async`). */
function dropNone(o: Readonly<Opts>): Opts {
  const out: Opts = {};
  for (const [k, v] of Object.entries(o)) if (v !== null) out[k] = v;
  return out;
}

/** Plain option values; Celery 4.x–5.0 signature dicts carry `chord_size`. */
function plain(o: Readonly<Opts>, env: CanvasEnv): Record<string, PyValue> {
  const withChordSize = getProfile(env.profile).signatureChordSize;
  const out: Record<string, PyValue> = {};
  for (const [k, v] of Object.entries(o)) out[k] = toPy(v, withChordSize);
  return out;
}

/** Apply any signature (`sig.apply_async(args, kwargs, **options)`). */
export function applyAsync(
  s: Signature,
  host: CanvasHost,
  args: readonly PyValue[] = [],
  kwargs: Readonly<Record<string, PyValue>> = {},
  options: Readonly<Opts> = {},
): Promise<ResultRef> {
  if (s instanceof Chain) return applyChain(s, host, args, kwargs, options);
  if (s instanceof Group) return applyGroup(s, host, args, kwargs, options);
  if (s instanceof Chord) return applyChord(s, host, args, kwargs, options);
  if (s.task === 'celery.chunks') return applyGroup(chunksGroup(s), host, args, kwargs, options);
  return applyTask(s, host, args, kwargs, options);
}

async function applyTask(
  s: Signature,
  host: CanvasHost,
  args: readonly PyValue[],
  kwargs: Readonly<Record<string, PyValue>>,
  options: Readonly<Opts>,
): Promise<ResultRef> {
  const given = dropNone(options);
  const m =
    args.length > 0 || Object.keys(kwargs).length > 0 || Object.keys(given).length > 0
      ? s.merge(args, kwargs, given)
      : { args: s.args, kwargs: s.kwargs, options: s.options };
  const opts = plain(m.options, host);
  // `send_task(..., task_id=None)`: a fresh id unless frozen.
  const id = typeof opts.task_id === 'string' ? opts.task_id : host.uuid();
  opts.task_id = id;
  const addToParent = opts.add_to_parent !== false;
  delete opts.add_to_parent;
  await host.sendTask(s.task, m.args, plain(m.kwargs, host), opts);
  const ref = taskRef(id);
  if (addToParent) host.addTrail?.(ref);
  return ref;
}

function pick(o: Opts, key: string): OptValue | undefined {
  const v = o[key];
  Reflect.deleteProperty(o, key);
  return v;
}

function str(v: OptValue | undefined): string | null {
  return typeof v === 'string' ? v : null;
}

/** `_chain.apply_async` → `_chain.run`. */
async function applyChain(
  c: Chain,
  host: CanvasHost,
  args: readonly PyValue[],
  kwargs: Readonly<Record<string, PyValue>>,
  options: Readonly<Opts>,
): Promise<ResultRef> {
  const o: Opts = { ...c.options, ...options };
  const groupId = str(pick(o, 'group_id'));
  const chordBody = maybeSignature(pick(o, 'chord'));
  const taskId = str(pick(o, 'task_id'));
  const link = signatureList(pick(o, 'link'));
  const linkError = signatureList(pick(o, 'link_error'));
  const rootId = str(pick(o, 'root_id'));
  const parentId = str(pick(o, 'parent_id'));
  const gi = pick(o, 'group_index');
  const fullArgs = args.length > 0 && !c.immutable ? [...args, ...c.args] : c.args;
  const { tasks, results } = prepareSteps(c, host, {
    args: fullArgs,
    kwargs,
    tasks: c.tasks,
    rootId,
    parentId,
    linkError,
    lastTaskId: taskId,
    groupId,
    chordBody,
    clone: true,
    groupIndex: typeof gi === 'number' ? gi : null,
  });
  if (tasks.some((t) => t instanceof Chord)) await host.ensureChordsAllowed();
  if (results.length === 0) throw new InvalidTaskError('cannot apply an empty chain');
  if (link.length > 0) for (const l of link) tasks[0]?.appendToListOption('link', l);
  const first = tasks.pop();
  if (!first) throw new InvalidTaskError('cannot apply an empty chain');
  // `_prepare_chain_from_options`: protocol 1 links steps instead of the `chain` field.
  let chainOpt: OptValue;
  if (host.protocol === 1) chainOpt = null;
  else if (!('chain' in o)) chainOpt = tasks;
  else chainOpt = [...((o.chain ?? []) as readonly (PyValue | Signature)[]), ...tasks];
  const r = await applyAsync(first, host, [], {}, { ...o, chain: chainOpt });
  return tasks.length === 0 ? r : (results[0] ?? r);
}

/** `group._freeze_gid`: merged options, the group id (`task_id`), the root id. */
function freezeGid(
  g: Group,
  host: CanvasHost,
  options: Readonly<Opts>,
): [Opts, string, string | null] {
  const o: Opts = { ...g.options };
  for (const [k, v] of Object.entries(options)) {
    if (!(k === 'group_id' || k === 'stamped_headers') || !(k in g.options)) o[k] = v;
  }
  // `options.pop('task_id', uuid())`: the default uuid is drawn even when unused.
  const fresh = host.uuid();
  const gid = str(pick(o, 'task_id')) ?? fresh;
  o.group_id = gid;
  return [o, gid, str(o.root_id)];
}

/** `group.apply_async`: freeze every member, then publish them (`_apply_tasks`). */
async function applyGroup(
  g: Group,
  host: CanvasHost,
  args: readonly PyValue[],
  kwargs: Readonly<Record<string, PyValue>>,
  options: Readonly<Opts>,
): Promise<ResultRef> {
  if (options.link !== undefined && options.link !== null)
    throw new InvalidTaskError('Cannot add link to group: use a chord');
  if (options.link_error !== undefined && options.link_error !== null)
    throw new InvalidTaskError('Cannot add link to group: do that on individual tasks');
  if (g.tasks.length === 0) return freeze(g, host);
  const [o, groupId, rootId] = freezeGid(g, host, options);
  // `_prepared`: members cloned and frozen with the group id (and index on 5.3+); nested
  // groups flattened.
  const prepared: { sig: Signature; res: ResultRef }[] = [];
  const walk = (tasks: readonly Signature[]): void => {
    tasks.forEach((t, index) => {
      const task = t.clone();
      if (task instanceof Group) walk(task.tasks);
      else if (task instanceof Chain && task.tasks.length === 0) return;
      else {
        const res = freeze(task, host, {
          groupId,
          rootId,
          ...(quirksOf(host.profile).groupIndex ? { groupIndex: index } : {}),
        });
        prepared.push({ sig: task, res });
      }
    });
  };
  walk(g.tasks);
  const chordOpt = pick(o, 'chord');
  delete o.group_index;
  const addToParent = pick(o, 'add_to_parent') !== false;
  let chordSize = 0;
  for (const [i, { sig }] of prepared.entries()) {
    const chordObj = chordOpt ?? sig.options.chord ?? null;
    chordSize += descend(sig);
    if (chordObj !== null && i === prepared.length - 1) {
      await host.setChordSize(groupId, chordSize);
    }
    // `_apply_tasks`: `sig.apply_async(add_to_parent=False, …)`; the group is the trail.
    await applyAsync(sig, host, args, kwargs, { ...o, chord: chordObj, add_to_parent: false });
  }
  const ref = groupRef(
    groupId,
    prepared.map((p) => p.res),
  );
  if (addToParent) host.addTrail?.(ref);
  return ref;
}

/** `_chord.apply_async` → `_chord.run`: body frozen first, then header members published. */
async function applyChord(
  c: Chord,
  host: CanvasHost,
  args: readonly PyValue[],
  kwargs: Readonly<Record<string, PyValue>>,
  options: Readonly<Opts>,
): Promise<ResultRef> {
  const partialArgs = args.length > 0 && !c.immutable ? [...args, ...c.args] : c.args;
  const headerKwargs = chordHeaderKwargs(host.profile, c.kwargs.kwargs as PyValue, kwargs);
  const opts: Opts = { ...options };
  const headerDelay: Opts = {};
  for (const k of ['countdown', 'eta']) {
    const v = pick(opts, k);
    if (v !== undefined && v !== null) headerDelay[k] = v;
  }
  const callbacks: Opts = {};
  for (const k of ['link', 'link_error']) if (k in opts) callbacks[k] = pick(opts, k) ?? null;
  const bodySrc = c.body;
  if (!bodySrc) throw new InvalidTaskError('chord has no body');
  const bodyOpts = { ...opts };
  delete bodyOpts.parent_id;
  let body = bodySrc.clone([], {}, bodyOpts);
  const h = c.header;
  const header =
    h instanceof Group
      ? new Group(h.tasks, { options: cloneOptions(h.options) })
      : new Group(c.headerTasks, {
          options: { task_id: str(c.options.task_id) ?? host.uuid() },
        });
  const merged: Opts = { ...c.options, ...opts, ...callbacks };
  delete merged.countdown;
  delete merged.eta;
  const taskId = str(pick(merged, 'task_id'));
  // --- `_chord.run` ---
  await host.ensureChordsAllowed();
  const groupId = str(header.options.task_id) ?? host.uuid();
  const rootId = str(body.options.root_id);
  const runOpts: Opts = { ...c.options, ...merged };
  for (const k of ['countdown', 'eta']) {
    const v = pick(runOpts, k);
    if (!(k in headerDelay) && v !== undefined && v !== null) headerDelay[k] = v;
  }
  if (Object.keys(runOpts).length > 0) {
    delete runOpts.task_id;
    body = addBodyCallbacks(body, runOpts);
    for (const [k, v] of Object.entries(runOpts)) if (k !== 'parent_id') body.options[k] = v;
  }
  // Celery 4.x–5.0 (`_chord.run`): `body.chord_size = self.__length_hint__()`.
  if (getProfile(host.profile).signatureChordSize) {
    body.chordSize = header.tasks.reduce((n, t) => n + descend(t), 0);
  }
  const bodyTaskId = taskId ?? host.uuid();
  const bodyRes = freeze(
    body,
    host,
    quirksOf(host.profile).chordBodyGroupId
      ? { id: bodyTaskId, groupId, rootId }
      : { id: bodyTaskId, rootId },
  );
  if (quirksOf(host.profile).stripChordHeaderLinks) stripChordHeaderLinks(body);
  delete runOpts.chain;
  delete runOpts.chord;
  delete runOpts.task_id;
  header.options.task_id = groupId;
  const { results } = freezeGroupTasks(header, host, { groupId, chord: body, rootId });
  let headerResult: ResultRef;
  if (header.tasks.length > 0) {
    // `BaseBackend.apply_chord` → `fallback_chord_unlock`, published before the header.
    if ((await host.usesChordUnlock?.()) === true) {
      const tuples = results.map((r) => resultTuple(r.id));
      await fallbackChordUnlock(host, groupId, body, tuples);
    }
    headerResult = await applyGroup(header, host, partialArgs, headerKwargs, {
      ...runOpts,
      ...headerDelay,
      task_id: groupId,
    });
  } else {
    // Nothing will ever complete the header: the body runs at once with `[]`.
    await applyAsync(body, host, [[]]);
    headerResult = groupRef(groupId, results);
  }
  bodyRes.parent = headerResult;
  return bodyRes;
}
