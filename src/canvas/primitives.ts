import type { PyValue } from '../serialization/py-values';
import {
  maybeSignature,
  registerType,
  Signature,
  signatureList,
  type OptValue,
  type SignatureInit,
} from './signature';

function sigs(v: OptValue | undefined): Signature[] {
  if (!Array.isArray(v)) return [];
  return (v as readonly OptValue[]).map((t) => maybeSignature(t)).filter((t) => t !== null);
}

/** `celery.chain` (`celery/canvas.py`, `_chain`): `kwargs.tasks` in forward order. */
export class Chain extends Signature {
  constructor(
    tasks: readonly Signature[],
    init: Omit<SignatureInit, 'kwargs' | 'subtaskType'> = {},
  ) {
    super('celery.chain', { ...init, kwargs: { tasks: [...tasks] }, subtaskType: 'chain' });
  }

  get tasks(): Signature[] {
    return sigs(this.kwargs.tasks);
  }

  set tasks(t: Signature[]) {
    this.kwargs.tasks = t;
  }

  /**
   * `_chain.unchain_tasks`: clones of the steps, the chain's own `link`s moved onto the last and
   * its `link_error`s onto every one — what `chain | x` and `chain(…, chain, …)` splice in.
   */
  unchainTasks(): Signature[] {
    const tasks = this.tasks.map((t) => t.clone());
    const last = tasks[tasks.length - 1];
    if (last) for (const cb of signatureList(this.options.link)) last.link(cb);
    for (const eb of signatureList(this.options.link_error)) {
      for (const t of tasks) t.linkError(eb);
    }
    return tasks;
  }

  protected override make(init: SignatureInit): Signature {
    // `_chain.clone` clones every step (`maybe_signature(sig, clone=True)`).
    return new Chain(
      sigs(init.kwargs?.tasks).map((t) => t.clone()),
      { ...init },
    );
  }
}

/** `celery.group` (`group`): `kwargs.tasks`. */
export class Group extends Signature {
  constructor(
    tasks: readonly Signature[],
    init: Omit<SignatureInit, 'kwargs' | 'subtaskType'> = {},
  ) {
    super('celery.group', { ...init, kwargs: { tasks: [...tasks] }, subtaskType: 'group' });
  }

  get tasks(): Signature[] {
    return sigs(this.kwargs.tasks);
  }

  set tasks(t: Signature[]) {
    this.kwargs.tasks = t;
  }

  protected override make(init: SignatureInit): Signature {
    return new Group(sigs(init.kwargs?.tasks), { ...init });
  }
}

/**
 * `celery.chord` (`_chord`): `kwargs = {kwargs: {}, header, body}`. The header stays a list until
 * frozen; freezing turns it into a group (`_chord.freeze`), as the dict then shows.
 */
export class Chord extends Signature {
  constructor(
    header: readonly Signature[] | Group,
    body: Signature | null,
    init: Omit<SignatureInit, 'subtaskType'> = {},
  ) {
    const { kwargs, ...rest } = init;
    super('celery.chord', {
      ...rest,
      kwargs: {
        kwargs: kwargs?.kwargs ?? {},
        header: header instanceof Group ? header : [...header],
        body,
      },
      subtaskType: 'chord',
    });
  }

  /** The header as a list of signatures (a group's tasks when already a group). */
  get headerTasks(): Signature[] {
    const h = this.kwargs.header;
    if (h instanceof Group) return h.tasks;
    return sigs(h);
  }

  /** The header: a {@link Group} once frozen, else the list as given. */
  get header(): readonly Signature[] | Group {
    const h = this.kwargs.header;
    return h instanceof Group ? h : sigs(h);
  }

  set header(h: readonly Signature[] | Group) {
    this.kwargs.header = h instanceof Group ? h : [...h];
  }

  get body(): Signature | null {
    return maybeSignature(this.kwargs.body);
  }

  set body(b: Signature | null) {
    this.kwargs.body = b;
  }

  protected override make(init: SignatureInit): Signature {
    const k = init.kwargs ?? {};
    const h = k.header;
    const header = h instanceof Group ? h : sigs(h);
    // `_chord.clone` clones the body too (`maybe_signature(body, clone=True)`).
    const body = maybeSignature(k.body)?.clone() ?? null;
    return new Chord(header, body, { ...init, kwargs: { kwargs: k.kwargs ?? {} } });
  }
}

registerType('chain', (d) => {
  const k = d.kwargs as Record<string, PyValue>;
  const tasks = ((k.tasks ?? []) as PyValue[]).map((t) => Signature.fromDict(t));
  return new Chain(tasks, {
    args: d.args as PyValue[],
    options: d.options as Record<string, PyValue>,
    immutable: d.immutable === true,
  });
});
registerType('group', (d) => {
  const k = d.kwargs as Record<string, PyValue>;
  const tasks = ((k.tasks ?? []) as PyValue[]).map((t) => Signature.fromDict(t));
  return new Group(tasks, {
    args: d.args as PyValue[],
    options: d.options as Record<string, PyValue>,
    immutable: d.immutable === true,
  });
});
registerType('chord', (d) => {
  const k = d.kwargs as Record<string, PyValue>;
  const h = k.header ?? [];
  const parsed = Array.isArray(h)
    ? (h as PyValue[]).map((t) => Signature.fromDict(t))
    : Signature.fromDict(h);
  const header = Array.isArray(parsed) || parsed instanceof Group ? parsed : [parsed];
  const body = k.body === undefined || k.body === null ? null : Signature.fromDict(k.body);
  return new Chord(header, body, {
    args: d.args as PyValue[],
    kwargs: { kwargs: k.kwargs ?? {} },
    options: d.options as Record<string, PyValue>,
    immutable: d.immutable === true,
  });
});

/** `len(group.tasks) == 1` → the task itself (`maybe_unroll_group`). */
export function maybeUnrollGroup(s: Signature): Signature {
  if (s instanceof Group) {
    const t = s.tasks;
    if (t.length === 1 && t[0]) return t[0];
  }
  return s;
}

function isEmptyGroup(s: Signature): boolean {
  return s instanceof Group && s.tasks.length === 0;
}

/** `sig | other` for a chord body: a chain that keeps folding (`Signature.__or__`). */
function pipe(a: Signature, b: Signature): Signature {
  return chain(a, b);
}

/**
 * One step of `_merge_chain_step` (`celery/canvas.py`): splice chains, unroll one-member groups,
 * upgrade `group | task` to a chord and append to a chord's body.
 */
function mergeStep(steps: Signature[], other: Signature, cloneOther: boolean): void {
  if (isEmptyGroup(other)) return;
  const last = steps[steps.length - 1];
  if (other instanceof Group) {
    const un = maybeUnrollGroup(other);
    if (!(un instanceof Group)) {
      mergeStep(steps, un, cloneOther);
      return;
    }
    if (last instanceof Chord) {
      last.body = last.body ? pipe(last.body, un) : un;
      return;
    }
    steps.push(cloneOther ? un.clone() : un);
    return;
  }
  if (other instanceof Chain) {
    const inner = other.unchainTasks();
    inner.forEach((t, i) => {
      mergeStep(steps, t, cloneOther || i !== inner.length - 1);
    });
    return;
  }
  if (last instanceof Group) {
    steps[steps.length - 1] = new Chord(last, cloneOther ? other.clone() : other);
    return;
  }
  if (last instanceof Chord && !(other instanceof Chord)) {
    last.body = last.body ? pipe(last.body, other) : other;
    return;
  }
  steps.push(cloneOther ? other.clone() : other);
}

/** `chain(*tasks)`, folded as `_fold_chain` does (a lone group stays a group). */
export function chain(...tasks: Signature[]): Signature {
  const steps: Signature[] = [];
  tasks.forEach((t, i) => {
    mergeStep(steps, t, i !== tasks.length - 1);
  });
  if (steps.length === 1 && steps[0] instanceof Group && tasks.length > 1) return steps[0];
  return new Chain([...steps.slice(0, -1).map((s) => s.clone()), ...steps.slice(-1)]);
}

/** `group(*tasks)`: members are kept as given (`group.__init__`). */
export function group(...tasks: Signature[]): Group {
  return new Group(tasks);
}

/** `chord(header, body)`. */
export function chord(header: readonly Signature[] | Group, body: Signature | null): Chord {
  return new Chord(header, body);
}

/** `xmap(task, it)`: `celery.map`, immutable, `subtask_type` null (`_basemap`). */
export function xmap(task: Signature, it: readonly PyValue[]): Signature {
  return new Signature('celery.map', { kwargs: { task, it: [...it] }, immutable: true });
}

/** `xstarmap(task, it)`: `celery.starmap`. */
export function xstarmap(task: Signature, it: readonly PyValue[]): Signature {
  return new Signature('celery.starmap', { kwargs: { task, it: [...it] }, immutable: true });
}

/** `chunks(task, it, n)`: `celery.chunks` (`chunks.__init__`). */
export function chunks(task: Signature, it: readonly PyValue[], n: number): Signature {
  return new Signature('celery.chunks', { kwargs: { task, it: [...it], n }, immutable: true });
}

/** `chunks.group()`: one `celery.starmap` task per chunk of `n` argument tuples. */
export function chunksGroup(c: Signature): Group {
  const task = c.kwargs.task ?? null;
  const it = Array.isArray(c.kwargs.it) ? (c.kwargs.it as readonly PyValue[]) : [];
  const n = typeof c.kwargs.n === 'number' && c.kwargs.n > 0 ? c.kwargs.n : 1;
  const parts: Signature[] = [];
  for (let i = 0; i < it.length; i += n) {
    parts.push(
      new Signature('celery.starmap', {
        kwargs: { task, it: it.slice(i, i + n) },
        immutable: true,
      }),
    );
  }
  return new Group(parts, { options: { ...c.options } });
}
