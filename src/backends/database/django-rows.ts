import { BackendGetMetaError, isCeleryError } from '../../errors/errors';
import { parseResultMeta } from '../../protocol/result-meta';
import { argsRepr, kwargsRepr } from '../../protocol/saferepr';
import { loads } from '../../serialization/registry';
import { isPyDict, type PyValue } from '../../serialization/py-values';
import type { StoreRequest, TaskMeta } from '../backend';
import { contentOf, encodeDocument } from '../codec';
import type { CeleryProfileName } from '../../protocol/profiles';
import { text } from './row-codec';

/**
 * Row ⇄ value conversion of django-celery-results 2.6 (`django_celery_results/backends/
 * database.py`, `DatabaseBackend`): every column holding a value is `encode_content(value)`,
 * i.e. `Backend._encode` with `result_serializer` as text, base64 when the serializer is binary
 * (`content_encoding == 'binary'`); the row's own `content_type`/`content_encoding` say how to
 * read it back (`decode_content`).
 */
export interface DjangoCodec {
  profile: CeleryProfileName;
  serializer: string;
  accept: readonly string[];
}

/** `encode_content(data)` → `[content_type, content_encoding, text]`. */
export function encodeContent(v: PyValue, c: DjangoCodec): [string, string, string] {
  const [type, encoding] = contentOf(c.serializer);
  const body = Buffer.from(encodeDocument(v, c.serializer, c.profile));
  return [type, encoding, encoding === 'binary' ? body.toString('base64') : body.toString('utf8')];
}

/** `decode_content(obj, content)`: empty/NULL content is `None`. */
export function decodeContent(
  content: unknown,
  type: string,
  encoding: string,
  accept: readonly string[],
): PyValue {
  const s =
    typeof content === 'string' ? content : Buffer.isBuffer(content) ? content.toString() : '';
  if (!s) return null;
  const body = encoding === 'binary' ? Buffer.from(s, 'base64') : Buffer.from(s, 'utf8');
  return loads(body, type, encoding === 'binary' ? 'binary' : encoding, { accept });
}

/** The columns `_store_result` + `TaskResultManager.store_result` set (date columns aside). */
export function taskRow(
  result: PyValue,
  status: string,
  traceback: string | null,
  request: StoreRequest | null,
  extended: boolean,
  c: DjangoCodec,
): Record<string, string | null> {
  const [contentType, contentEncoding, value] = encodeContent(result, c);
  // `meta` = `{**request.meta, "children": current_task_children(request)}`.
  const [, , meta] = encodeContent({ children: [...(request?.children ?? [])] }, c);
  const row: Record<string, string | null> = {
    status,
    result: value,
    // `_get_extended_properties` resets `traceback` to None unless `result_extended`, after
    // `_store_result` set it: without extended results, no traceback is stored.
    traceback: null,
    meta,
    content_encoding: contentEncoding,
    content_type: contentType,
    periodic_task_name: null,
    task_name: null,
    task_args: null,
    task_kwargs: null,
    worker: null,
  };
  if (extended && request) {
    // Protocol 2: `request.argsrepr` / `kwargsrepr` (what the message header carries).
    const args = Array.isArray(request.args) ? (request.args as PyValue[]) : [];
    const kwargs = isPyDict(request.kwargs) ? request.kwargs : {};
    row.task_args = encodeContent(argsRepr(args), c)[2];
    row.task_kwargs = encodeContent(kwargsRepr(kwargs), c)[2];
    row.task_name = request.task ?? null;
    row.worker = request.hostname ?? null;
    row.traceback = traceback;
  }
  return row;
}

/** A DATETIME/timestamptz as Python's aware `isoformat()` (UTC). */
function isoUtc(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const d = v instanceof Date ? v : new Date(`${text(v).replace(' ', 'T')}Z`);
  if (Number.isNaN(d.getTime())) return text(v);
  return d.toISOString().replace('Z', '+00:00');
}

/** `_get_task_meta_for` on one `django_celery_results_taskresult` row. */
export function taskMetaFromDjangoRow(
  row: Readonly<Record<string, unknown>>,
  c: DjangoCodec,
  table: string,
): TaskMeta {
  const taskId = text(row.task_id);
  try {
    const type = text(row.content_type, 'application/json');
    const enc = text(row.content_encoding, 'utf-8');
    const dec = (v: unknown): PyValue => decodeContent(v, type, enc, c.accept);
    const meta = dec(row.meta);
    const doc: Record<string, PyValue> = {
      task_id: taskId,
      status: text(row.status, 'PENDING'),
      result: dec(row.result),
      traceback: typeof row.traceback === 'string' ? row.traceback : null,
      date_done: isoUtc(row.date_done),
      name: typeof row.task_name === 'string' ? row.task_name : null,
      args: dec(row.task_args),
      kwargs: dec(row.task_kwargs),
      worker: typeof row.worker === 'string' ? row.worker : null,
      ...(isPyDict(meta) ? meta : {}),
    };
    const parsed = parseResultMeta({
      ...doc,
      children: Array.isArray(doc.children) ? doc.children : [],
    });
    return { ...parsed, raw: doc };
  } catch (e) {
    if (isCeleryError(e) && e.code === 'E_CONTENT_DISALLOWED') throw e;
    throw new BackendGetMetaError(
      `cannot read row ${table}.task_id=${JSON.stringify(taskId)}: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e, taskId },
    );
  }
}
