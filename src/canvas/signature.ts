import { ProtocolError } from '../errors/errors';
import { getProfile, type CeleryProfileName } from '../protocol/profiles';
import { parseSignature, type SignatureDict } from '../protocol/signature';
import { isPyDict, type PyValue } from '../serialization/py-values';

/**
 * A value inside a signature's `kwargs`/`options`: plain Python values, or live signatures (a
 * chord body, a `link` list, the tasks of a group). Live signatures matter: Celery stores the body
 * *object* in each header task's `options.chord` and freezes it afterwards, so the id assigned
 * later shows up in every header message (`celery/canvas.py`, `_chord.freeze`).
 */
export type OptValue = PyValue | Signature | readonly (PyValue | Signature)[];

/** Keys `Signature._merge` never lets a caller override once set (`_IMMUTABLE_OPTIONS`). */
export const IMMUTABLE_OPTIONS = new Set(['group_id', 'stamped_headers']);

/** What freezing and applying need from the app: Celery's `uuid()`, `app.thread_oid`, the line. */
export interface CanvasEnv {
  uuid(): string;
  /** `reply_to` written into frozen options (`app.thread_oid`). */
  oid: string;
  profile: CeleryProfileName;
  /** `task_protocol`: protocol 1 links chain steps with `link` instead of the `chain` field. */
  protocol: 1 | 2;
}

/** Arguments of {@link Signature.freeze} (`Signature.freeze(_id, group_id, chord, …)`). */
export interface FreezeArgs {
  id?: string | null;
  groupId?: string | null;
  chord?: Signature | null;
  rootId?: string | null;
  parentId?: string | null;
  groupIndex?: number | null;
}

/** Celery lines before 5.3 freeze/apply canvases the older way (no header link stripping, …). */
export function isLegacyLine(env: CanvasEnv): boolean {
  return getProfile(env.profile).legacyCanvas;
}

/** Convert an {@link OptValue} into the plain value that travels in messages. */
export function toPy(v: OptValue, withChordSize = false): PyValue {
  if (v instanceof Signature) return v.toDict(withChordSize);
  if (Array.isArray(v)) {
    return (v as readonly (PyValue | Signature)[]).map((x) => toPy(x, withChordSize));
  }
  return v as PyValue;
}

function cloneOpt(v: OptValue): OptValue {
  if (v instanceof Signature) return v.clone();
  if (Array.isArray(v))
    return (v as readonly (PyValue | Signature)[]).map((x) => cloneOpt(x) as PyValue | Signature);
  return v;
}

/** `deepcopy(options)` as `Signature.clone` does: live signatures inside are cloned too. */
export function cloneOptions(o: Readonly<Record<string, OptValue>>): Record<string, OptValue> {
  const out: Record<string, OptValue> = {};
  for (const [k, v] of Object.entries(o)) out[k] = cloneOpt(v);
  return out;
}

type Factory = (d: Readonly<Record<string, PyValue>>) => Signature;
const registry = new Map<string, Factory>();

/** `Signature.register_type`: `fromDict` dispatches on `subtask_type` to these. */
export function registerType(name: string, factory: Factory): void {
  registry.set(name, factory);
}

/** Fields of a {@link Signature}. */
export interface SignatureInit {
  args?: readonly PyValue[];
  kwargs?: Readonly<Record<string, OptValue>>;
  options?: Readonly<Record<string, OptValue>>;
  subtaskType?: string | null;
  immutable?: boolean;
}

/**
 * Celery's `Signature` (`celery/canvas.py`): a task name with partial args/kwargs and apply
 * options, in Celery's snake_case (`task_id`, `link_error`, `queue`, …).
 */
export class Signature {
  task: string;
  args: PyValue[];
  kwargs: Record<string, OptValue>;
  options: Record<string, OptValue>;
  subtaskType: string | null;
  immutable: boolean;
  /**
   * Celery 4.x–5.0 only (`Signature.chord_size`): the header size `_chord.run` stamps on the body;
   * emitted as `chord_size` by {@link toDict} with `withChordSize`.
   */
  chordSize: number | null = null;
  /**
   * Celery 4.x–5.0: a plain signature rebuilt by `Signature.clone` comes from the dict literal
   * `{…, 'subtask_type', 'chord_size', 'immutable'}` (`from_dict` keeps its order), while
   * `Signature.__init__` writes `immutable` before `chord_size`. Only {@link toDict} with
   * `withChordSize` reads it.
   */
  chordSizeBeforeImmutable = false;

  constructor(task: string, init: SignatureInit = {}) {
    this.task = task;
    this.args = [...(init.args ?? [])];
    this.kwargs = { ...(init.kwargs ?? {}) };
    this.options = { ...(init.options ?? {}) };
    this.subtaskType = init.subtaskType ?? null;
    this.immutable = init.immutable ?? false;
  }

  /** `Signature.from_dict`: dispatch on `subtask_type` (chain, group, chord) or a plain signature. */
  static fromDict(d: PyValue): Signature {
    const p = parseSignature(d);
    const f = p.subtaskType === null ? undefined : registry.get(p.subtaskType);
    // Unknown `subtask_type`s stay plain signatures, as `Signature.from_dict` falls back to `cls`.
    if (f) return f(p.raw);
    const s = new Signature(p.task, {
      args: p.args,
      kwargs: p.kwargs,
      options: p.options,
      subtaskType: p.subtaskType,
      immutable: p.immutable,
    });
    // `from_dict` → `dict(d)`: the key order of the dict it was given.
    const keys = isPyDict(d) ? Object.keys(d) : [];
    const cs = keys.indexOf('chord_size');
    s.chordSizeBeforeImmutable = cs >= 0 && cs < keys.indexOf('immutable');
    return s;
  }

  /** The frozen task id (`options.task_id`), if any. */
  get id(): string | undefined {
    const t = this.options.task_id;
    return typeof t === 'string' ? t : undefined;
  }

  set id(v: string | undefined) {
    if (v === undefined) delete this.options.task_id;
    else this.options.task_id = v;
  }

  /** `Signature.set(**options)`: update options in place; returns `this`. */
  set(options: Readonly<Record<string, OptValue>>, immutable?: boolean): this {
    if (immutable !== undefined) this.immutable = immutable;
    Object.assign(this.options, options);
    return this;
  }

  /**
   * `Signature._merge`: partial args are prepended and kwargs merged unless immutable; options
   * override except {@link IMMUTABLE_OPTIONS} already set.
   */
  merge(
    args: readonly PyValue[] = [],
    kwargs: Readonly<Record<string, PyValue>> = {},
    options: Readonly<Record<string, OptValue>> | null = null,
  ): { args: PyValue[]; kwargs: Record<string, OptValue>; options: Record<string, OptValue> } {
    let newOptions = this.options;
    if (options !== null) {
      newOptions = { ...this.options };
      for (const [k, v] of Object.entries(options)) {
        if (!IMMUTABLE_OPTIONS.has(k) || !(k in this.options)) newOptions[k] = v;
      }
    }
    if (this.immutable) return { args: this.args, kwargs: this.kwargs, options: newOptions };
    return {
      args: args.length > 0 ? [...args, ...this.args] : this.args,
      kwargs: Object.keys(kwargs).length > 0 ? { ...this.kwargs, ...kwargs } : this.kwargs,
      options: newOptions,
    };
  }

  /** Build a copy of the same class (subclasses override to keep their type). */
  protected make(init: SignatureInit): Signature {
    return new Signature(this.task, init);
  }

  /** `Signature.clone(args, kwargs, **opts)`: options deep-copied, kwargs shallow. */
  clone(
    args: readonly PyValue[] = [],
    kwargs: Readonly<Record<string, PyValue>> = {},
    opts: Readonly<Record<string, OptValue>> = {},
  ): Signature {
    const any = args.length > 0 || Object.keys(kwargs).length > 0 || Object.keys(opts).length > 0;
    const m = any
      ? this.merge(args, kwargs, opts)
      : { args: this.args, kwargs: this.kwargs, options: this.options };
    const c = this.make({
      args: m.args,
      kwargs: { ...m.kwargs },
      options: cloneOptions(m.options),
      subtaskType: this.subtaskType,
      immutable: this.immutable,
    });
    c.chordSize = this.chordSize;
    // Only a plain signature keeps the literal's order; `from_dict` rebuilds canvas types anew.
    if (c.constructor === Signature) c.chordSizeBeforeImmutable = true;
    return c;
  }

  /**
   * `Signature.freeze`: assign the task id (kept if already set) and the ids that go into the
   * message; returns the task id.
   */
  freeze(env: CanvasEnv, a: FreezeArgs = {}): string {
    const o = this.options;
    let tid = o.task_id;
    if (typeof tid !== 'string') {
      tid = a.id ?? env.uuid();
      o.task_id = tid;
    }
    if (a.rootId) o.root_id = a.rootId;
    if (a.parentId) o.parent_id = a.parentId;
    if (!('reply_to' in o)) o.reply_to = env.oid;
    if (a.groupId && !('group_id' in o)) o.group_id = a.groupId;
    if (a.chord) o.chord = a.chord;
    if (a.groupIndex !== undefined && a.groupIndex !== null) o.group_index = a.groupIndex;
    return tid;
  }

  /** Append to a list option (`_with_list_option`): `link`, `link_error`. */
  appendToListOption(key: string, value: PyValue | Signature): void {
    const cur = this.options[key];
    if (Array.isArray(cur)) {
      const list = cur as readonly (PyValue | Signature)[];
      if (!list.includes(value)) this.options[key] = [...list, value];
    } else if (cur === undefined || cur === null) this.options[key] = [value];
    else this.options[key] = [cur as PyValue | Signature, value];
  }

  /** `Signature.link(callback)`: add a success callback; returns the callback. */
  link(callback: Signature): Signature {
    this.appendToListOption('link', callback);
    return callback;
  }

  /** `Signature.link_error(errback)`: add an error callback; returns the errback. */
  linkError(errback: Signature): Signature {
    this.appendToListOption('link_error', errback);
    return errback;
  }

  /** `dict(signature)`: Celery's key order `task, args, kwargs, options, subtask_type, immutable`. */
  toDict(withChordSize = false): SignatureDict {
    const kwargs: Record<string, PyValue> = {};
    for (const [k, v] of Object.entries(this.kwargs)) kwargs[k] = toPy(v, withChordSize);
    const options: Record<string, PyValue> = {};
    for (const [k, v] of Object.entries(this.options)) options[k] = toPy(v, withChordSize);
    const d: Record<string, PyValue> = {
      task: this.task,
      args: [...this.args],
      kwargs,
      options,
      subtask_type: this.subtaskType,
    };
    if (withChordSize && this.chordSizeBeforeImmutable) d.chord_size = this.chordSize;
    d.immutable = this.immutable;
    if (withChordSize && !this.chordSizeBeforeImmutable) d.chord_size = this.chordSize;
    return d;
  }
}

/** `signature(name, args=…, kwargs=…, options…, immutable=…)`, or a copy of a dict/signature. */
export function signature(
  nameOrDict: string | Signature | PyValue,
  init: SignatureInit = {},
): Signature {
  if (typeof nameOrDict === 'string') return new Signature(nameOrDict, init);
  if (nameOrDict instanceof Signature) return nameOrDict.clone();
  if (!isPyDict(nameOrDict)) throw new ProtocolError('not a signature', { path: '' });
  return Signature.fromDict(nameOrDict);
}

/** `maybe_signature`: live signatures pass through, dicts are parsed, `null` stays `null`. */
export function maybeSignature(v: OptValue | undefined): Signature | null {
  if (v === undefined || v === null) return null;
  if (v instanceof Signature) return v;
  return Signature.fromDict(v as PyValue);
}

/** `maybe_list` over option values holding signatures. */
export function signatureList(v: OptValue | undefined): Signature[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) {
    return (v as readonly OptValue[]).map((x) => maybeSignature(x)).filter((x) => x !== null);
  }
  const s = maybeSignature(v);
  return s ? [s] : [];
}

/** `task.s(*args, **kwargs)`: a mutable signature (the parent's result is prepended). */
export function s(
  name: string,
  args: readonly PyValue[] = [],
  kwargs: Readonly<Record<string, PyValue>> = {},
): Signature {
  return new Signature(name, { args, kwargs });
}

/** `task.si(*args, **kwargs)`: an immutable signature (partial args are ignored). */
export function si(
  name: string,
  args: readonly PyValue[] = [],
  kwargs: Readonly<Record<string, PyValue>> = {},
): Signature {
  return new Signature(name, { args, kwargs, immutable: true });
}
