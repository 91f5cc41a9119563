import { BackendGetMetaError, isCeleryError } from '../../errors/errors';
import { parseResultMeta } from '../../protocol/result-meta';
import { readPickle } from '../../serialization/pickle/pickle-reader';
import { writeGroupResultPickle, writePickle } from '../../serialization/pickle/pickle-writer';
import { isPyDict, PyDateTime, type PyValue } from '../../serialization/py-values';
import type { TaskMeta } from '../backend';
import { decodeDocument, encodeDocument } from '../codec';
import type { CeleryProfileName } from '../../protocol/profiles';

/**
 * Row ⇄ document conversion of `celery_taskmeta` / `celery_tasksetmeta`, per Celery line:
 *
 * - 5.7.0 (`DatabaseBackend._update_result` / `_get_task_meta_for`): `result` is
 *   `ensure_bytes(self.encode(result))` (the `result_serializer`); a row that does not decode but
 *   starts with `\x80` is a legacy pickle (`_decode_stored_result`), read by the safe reader;
 *   `children` = `encode(children)` or NULL when empty; `stamps` = `encode({stamped_headers,
 *   stamps})` when stamped.
 * - ≤ 5.6 (5.2.7): `result` is `PickleType` (`pickle.dumps(value, HIGHEST_PROTOCOL)`), no
 *   `children`/`stamps` columns.
 * - both: extended `args`/`kwargs` are `encode(value)` bytes; `date_done` is naive UTC.
 */
export interface RowCodecOptions {
  profile: CeleryProfileName;
  serializer: string;
  accept: readonly string[];
}

/** The values of the columns `_update_result` sets (id and task_id excluded). */
export type TaskRowValues = Record<string, string | number | Buffer | null>;

/** A driver value as text (`String()` only of primitives). */
export function text(v: unknown, fallback = ''): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return fallback;
}

function buf(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

export function isPickleLine(profile: CeleryProfileName): boolean {
  return profile !== 'celery-5.7';
}

/** `date_done` text for a naive DATETIME/timestamp column (`YYYY-MM-DD HH:MM:SS.ffffff`). */
export function sqlDateTime(iso: string | null): string | null {
  if (iso === null) return null;
  const naive = iso.replace(/(Z|[+-]\d{2}:\d{2})$/, '');
  return naive.replace('T', ' ');
}

/** The encoded column values of one stored state (the document from `buildResultMeta`). */
export function taskRowValues(
  doc: Readonly<Record<string, PyValue>>,
  o: RowCodecOptions,
  extended: boolean,
  has: (column: string) => boolean,
): TaskRowValues {
  const enc = (v: PyValue): Buffer => buf(encodeDocument(v, o.serializer, o.profile));
  const dd = doc.date_done;
  const out: TaskRowValues = {
    status: doc.status as string,
    result: isPickleLine(o.profile)
      ? buf(writePickle(doc.result ?? null))
      : enc(doc.result ?? null),
    date_done: sqlDateTime(typeof dd === 'string' ? dd : null),
    traceback: typeof doc.traceback === 'string' ? doc.traceback : null,
  };
  if (has('children') && !isPickleLine(o.profile)) {
    const ch = doc.children;
    out.children = Array.isArray(ch) && ch.length > 0 ? enc(ch) : null;
  }
  if (extended) {
    out.name = typeof doc.name === 'string' ? doc.name : null;
    out.args = doc.args === undefined ? null : enc(doc.args);
    out.kwargs = doc.kwargs === undefined ? null : enc(doc.kwargs);
    out.worker = typeof doc.worker === 'string' ? doc.worker : null;
    out.retries = typeof doc.retries === 'number' ? doc.retries : null;
    out.queue = typeof doc.queue === 'string' ? doc.queue : null;
    const stamped = doc.stamped_headers;
    if (has('stamps') && !isPickleLine(o.profile) && Array.isArray(stamped) && stamped.length) {
      const stamps: Record<string, PyValue> = {};
      for (const h of stamped as PyValue[]) {
        if (typeof h === 'string' && h in doc) stamps[h] = doc[h] ?? null;
      }
      out.stamps = enc({ stamped_headers: stamped, stamps });
    }
  }
  return out;
}

function asBytes(v: unknown): Uint8Array | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return Buffer.from(v, 'latin1');
  return null;
}

/** A DATETIME/timestamp text as the naive `datetime.isoformat()` Python would print. */
export function isoFromSql(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const s = text(v).trim().replace(' ', 'T');
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?$/.exec(s);
  if (!m) return s;
  const frac = (m[2] ?? '').replace(/0+$/, '');
  return frac ? `${m[1] ?? ''}.${frac.padEnd(6, '0').slice(0, 6)}` : (m[1] ?? '');
}

/** `_decode_stored_result`. */
export function decodeStoredResult(
  payload: Uint8Array | null,
  o: RowCodecOptions,
  what: string,
): PyValue {
  if (payload === null) return null;
  if (isPickleLine(o.profile)) return readPickle(payload, what);
  try {
    return decodeDocument(payload, o.serializer, o.accept);
  } catch (e) {
    // Legacy rows (pre-#3025) are pickles; anything else is the serializer's error.
    if (payload[0] !== 0x80) throw e;
    return readPickle(payload, what);
  }
}

/** `_get_task_meta_for` on one row (a missing row is the caller's PENDING). */
export function taskMetaFromRow(
  row: Readonly<Record<string, unknown>>,
  o: RowCodecOptions,
  table: string,
): TaskMeta {
  const taskId = text(row.task_id);
  const what = `${table}.result of ${taskId}`;
  try {
    const dec = (v: unknown): PyValue => {
      const b = asBytes(v);
      return b === null ? null : decodeDocument(b, o.serializer, o.accept);
    };
    const dd = isoFromSql(row.date_done);
    const doc: Record<string, PyValue> = {
      task_id: taskId,
      status: text(row.status, 'PENDING'),
      result: decodeStoredResult(asBytes(row.result), o, what),
      traceback: typeof row.traceback === 'string' ? row.traceback : null,
      date_done: dd === null ? null : new PyDateTime(dd).iso,
    };
    if ('children' in row) doc.children = row.children == null ? null : dec(row.children);
    for (const k of ['name', 'worker', 'queue'] as const)
      if (k in row) doc[k] = (row[k] as string | null) ?? null;
    if ('retries' in row) doc.retries = row.retries == null ? null : Number(row.retries);
    if ('args' in row) doc.args = row.args == null ? null : dec(row.args);
    if ('kwargs' in row) doc.kwargs = row.kwargs == null ? null : dec(row.kwargs);
    if (row.stamps != null) {
      const info = dec(row.stamps);
      if (isPyDict(info)) {
        if ('stamped_headers' in info) doc.stamped_headers = info.stamped_headers ?? null;
        if (isPyDict(info.stamps)) Object.assign(doc, info.stamps);
      }
    }
    const meta = parseResultMeta({
      ...doc,
      children: Array.isArray(doc.children) ? doc.children : [],
    });
    return { ...meta, raw: doc };
  } catch (e) {
    if (isCeleryError(e) && e.code === 'E_CONTENT_DISALLOWED') throw e;
    throw new BackendGetMetaError(
      `cannot read row ${table}.task_id=${JSON.stringify(taskId)}: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e, taskId },
    );
  }
}

/** `_save_group` value: the group tuple encoded (5.7) or the pickled GroupResult (≤ 5.6). */
export function groupRowValue(
  groupTuple: PyValue,
  o: RowCodecOptions,
  backend: { dburi: string; expiresSeconds: number | null },
): Buffer {
  if (!isPickleLine(o.profile)) return buf(encodeDocument(groupTuple, o.serializer, o.profile));
  const [head, children] = Array.isArray(groupTuple) ? (groupTuple as PyValue[]) : [];
  const gid: PyValue = Array.isArray(head) ? ((head as PyValue[])[0] ?? null) : null;
  const childId = (c: PyValue): PyValue => {
    const h: PyValue = Array.isArray(c) ? ((c as PyValue[])[0] ?? null) : null;
    return Array.isArray(h) ? ((h as PyValue[])[0] ?? null) : null;
  };
  const ids = Array.isArray(children) ? (children as PyValue[]).map(childId) : [];
  if (typeof gid !== 'string' || ids.some((i) => typeof i !== 'string'))
    throw new BackendGetMetaError('group tuple is not [[id, parent], [[[child, parent], null]…]]', {
      taskId: text(gid),
    });
  return buf(writeGroupResultPickle(gid, ids as string[], backend));
}

/** `_restore_group`: the group tuple, read back. */
export function groupFromRow(
  row: Readonly<Record<string, unknown>>,
  o: RowCodecOptions,
  table: string,
): PyValue {
  const id = text(row.taskset_id);
  try {
    return decodeStoredResult(asBytes(row.result), o, `${table}.result of ${id}`);
  } catch (e) {
    throw new BackendGetMetaError(`cannot read row ${table}.taskset_id=${JSON.stringify(id)}`, {
      cause: e,
      taskId: id,
    });
  }
}
