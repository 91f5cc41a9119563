import { ProtocolError } from '../errors/errors';
import { isPyDict, type PyValue } from '../serialization/py-values';

/**
 * A signature as it travels inside messages: a plain dict with Celery's key order
 * `task, args, kwargs, options, subtask_type, immutable` (`celery/canvas.py`, `Signature.__init__`),
 * plus `chord_size` on Celery 4.x–5.0.x.
 */
export type SignatureDict = Readonly<Record<string, PyValue>>;

/** Typed view of the fields of a {@link SignatureDict}. */
export interface SignatureFields {
  task: string;
  args?: readonly PyValue[];
  kwargs?: Readonly<Record<string, PyValue>>;
  options?: Readonly<Record<string, PyValue>>;
  subtaskType?: string | null;
  immutable?: boolean;
  /** Only emitted when `withChordSize` is set (4.x/5.0 profile); `null` unless a chord body. */
  chordSize?: number | null;
  /** Emit the `chord_size` key (Celery 4.x–5.0.x signatures always carry it). */
  withChordSize?: boolean;
}

/** Build a signature dict in Celery's key order. */
export function signatureDict(f: SignatureFields): SignatureDict {
  const d: Record<string, PyValue> = {
    task: f.task,
    args: [...(f.args ?? [])],
    kwargs: { ...(f.kwargs ?? {}) },
    options: { ...(f.options ?? {}) },
    subtask_type: f.subtaskType ?? null,
    immutable: f.immutable ?? false,
  };
  if (f.withChordSize === true) d.chord_size = f.chordSize ?? null;
  return d;
}

type CanvasOpts = Omit<SignatureFields, 'task' | 'args' | 'kwargs' | 'subtaskType' | 'immutable'>;

/** `chain(*tasks)` as a dict: `celery.chain`, `kwargs.tasks` in forward order (`_chain.__init__`). */
export function chainDict(tasks: readonly SignatureDict[], o: CanvasOpts = {}): SignatureDict {
  return signatureDict({
    ...o,
    task: 'celery.chain',
    kwargs: { tasks: [...tasks] },
    subtaskType: 'chain',
  });
}

/** `group(*tasks)` as a dict (`group.__init__`). */
export function groupDict(tasks: readonly SignatureDict[], o: CanvasOpts = {}): SignatureDict {
  return signatureDict({
    ...o,
    task: 'celery.group',
    kwargs: { tasks: [...tasks] },
    subtaskType: 'group',
  });
}

/** `chord(header, body)` as a dict: `kwargs = {kwargs: {}, header: [...], body}` (`_chord.__init__`). */
export function chordDict(
  header: readonly SignatureDict[],
  body: SignatureDict | null,
  o: CanvasOpts & { chordKwargs?: Readonly<Record<string, PyValue>> } = {},
): SignatureDict {
  const { chordKwargs, ...rest } = o;
  return signatureDict({
    ...rest,
    task: 'celery.chord',
    kwargs: { kwargs: { ...(chordKwargs ?? {}) }, header: [...header], body },
    subtaskType: 'chord',
  });
}

/**
 * `xmap`/`xstarmap`/`chunks` dicts (`_basemap.__init__`, `chunks.__init__`): always immutable and,
 * unlike the other canvas types, `subtask_type` stays `null` (verified on Celery 5.7.0).
 */
export function mapDict(
  kind: 'xmap' | 'xstarmap',
  task: SignatureDict,
  it: readonly PyValue[],
  o: CanvasOpts = {},
): SignatureDict {
  const name = kind === 'xmap' ? 'celery.map' : 'celery.starmap';
  return signatureDict({ ...o, task: name, kwargs: { task, it: [...it] }, immutable: true });
}

/** `chunks(task, it, n)` as a dict. */
export function chunksDict(
  task: SignatureDict,
  it: readonly PyValue[],
  n: number,
  o: CanvasOpts = {},
): SignatureDict {
  return signatureDict({
    ...o,
    task: 'celery.chunks',
    kwargs: { task, it: [...it], n },
    immutable: true,
  });
}

/** A validated signature read from untrusted input. */
export interface ParsedSignature {
  task: string;
  args: readonly PyValue[];
  kwargs: Readonly<Record<string, PyValue>>;
  options: Readonly<Record<string, PyValue>>;
  subtaskType: string | null;
  immutable: boolean;
  chordSize: number | null | undefined;
  /** The dict as received (re-sent verbatim when forwarding). */
  raw: SignatureDict;
}

/**
 * Validate a signature dict (e.g. an entry of `embed.callbacks`). Missing `args`/`kwargs`/
 * `options` default as `Signature.from_dict` does; wrong types throw {@link ProtocolError} at `path`.
 */
export function parseSignature(v: PyValue | undefined, path = ''): ParsedSignature {
  if (!isPyDict(v)) throw new ProtocolError('signature is not an object', { path });
  const { task, args = [], kwargs = {}, options = {}, subtask_type = null, immutable = false } = v;
  if (typeof task !== 'string')
    throw new ProtocolError('signature task is not a string', { path: `${path}/task` });
  if (!Array.isArray(args))
    throw new ProtocolError('signature args is not a list', { path: `${path}/args` });
  if (!isPyDict(kwargs))
    throw new ProtocolError('signature kwargs is not an object', { path: `${path}/kwargs` });
  if (!isPyDict(options))
    throw new ProtocolError('signature options is not an object', { path: `${path}/options` });
  if (subtask_type !== null && typeof subtask_type !== 'string') {
    throw new ProtocolError('signature subtask_type is not a string', {
      path: `${path}/subtask_type`,
    });
  }
  if (typeof immutable !== 'boolean') {
    throw new ProtocolError('signature immutable is not a bool', { path: `${path}/immutable` });
  }
  const cs = v.chord_size;
  if (cs !== undefined && cs !== null && typeof cs !== 'number') {
    throw new ProtocolError('signature chord_size is not an int', { path: `${path}/chord_size` });
  }
  return {
    task,
    args: args as readonly PyValue[],
    kwargs,
    options,
    subtaskType: subtask_type,
    immutable,
    chordSize: cs,
    raw: v,
  };
}

/** Validate a list of signatures (`callbacks`, `errbacks`, `chain`); `null` passes through. */
export function parseSignatureList(v: PyValue | undefined, path: string): ParsedSignature[] | null {
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v)) throw new ProtocolError('expected a list of signatures', { path });
  return (v as readonly PyValue[]).map((s, i) => parseSignature(s, `${path}/${String(i)}`));
}
