import { ALL_HEADER_KEYS, type CeleryProfile } from '../protocol/profiles';
import { isPyDict, type PyValue } from '../serialization/py-values';
import type { WorkerRequest } from './request';

/**
 * Header keys Celery sets itself; everything else is a custom header kept on retry
 * (`celery/app/task.py`, `Context._get_custom_headers`). The newest profile's v2 keys are a
 * superset of the older lines'; the rest are what kombu adds and what v1/hybrid bodies carry.
 */
const CELERY_HEADERS: ReadonlySet<string> = new Set([
  ...ALL_HEADER_KEYS,
  'compression',
  'redelivered',
  'headers',
  'taskset',
  'chord',
  'callbacks',
  'errbacks',
  'kwargs',
  'args',
  'utc',
  'meth',
]);

/** The headers a task was sent with that Celery did not set itself (`x-death` is RabbitMQ's). */
export function customHeaders(headers: Readonly<Record<string, PyValue>>): Record<string, PyValue> {
  const custom: Record<string, PyValue> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (!CELERY_HEADERS.has(k) && !k.startsWith('x-death')) custom[k] = v;
  }
  return custom;
}

/**
 * A request as Celery's snake_case `apply_async` options: `celery/app/task.py`,
 * `Context.as_execution_options` (the line's keys, in its order), then what
 * `Task.signature_from_request` adds (`ignore_result` in 5.7, the delivery priority). The result is
 * read through the one option table (`src/client/celery-options.ts`, `fromCeleryOptions`), as the
 * client and canvas read theirs. Absent values are `None`, which the table skips as `send_task`
 * does. `chain`/`chord` stay with the caller: the embed is re-sent exactly as it arrived.
 */
export function executionOptions(
  req: WorkerRequest,
  profile: CeleryProfile,
): Record<string, PyValue> {
  const h = req.decoded.headers;
  const d = req.decoded;
  const tl = Array.isArray(h.timelimit) ? (h.timelimit as PyValue[]) : [];
  const custom = customHeaders(h);
  const context: Record<string, PyValue> = {
    task_id: req.id,
    root_id: h.root_id ?? null,
    parent_id: h.parent_id ?? null,
    group_id: h.group ?? null,
    group_index: h.group_index ?? null,
    shadow: h.shadow ?? null,
    link: d.embed.callbacks,
    link_error: d.embed.errbacks,
    expires: h.expires ?? null,
    soft_time_limit: tl[1] ?? null,
    time_limit: tl[0] ?? null,
    headers: profile.retryKeepsHeaders === true && Object.keys(custom).length > 0 ? custom : null,
    retries: h.retries ?? 0,
    reply_to: d.properties.reply_to ?? null,
    replaced_task_nesting: h.replaced_task_nesting ?? 0,
    origin: h.origin ?? null,
  };
  const o: Record<string, PyValue> = {};
  for (const k of profile.executionOptionKeys) {
    if (k in context) o[k] = context[k] as PyValue;
  }
  // `get_actual_ignore_result`: the request's, else the task's own setting.
  if (profile.retryKeepsIgnoreResult === true) {
    o.ignore_result = h.ignore_result ?? req.def.options.ignoreResult ?? false;
  }
  // `Request.delivery_info['priority']` is the message property (`celery/worker/request.py`).
  o.priority = d.properties.priority ?? null;
  return o;
}

/**
 * The request's stamps, re-sent with the retry: `as_execution_options` passes them on only when
 * the request names its `stamped_headers`, and then only the named ones (Celery ≥ 5.3).
 */
export function requestStamps(req: WorkerRequest): Readonly<Record<string, PyValue>> | undefined {
  const h = req.decoded.headers;
  const names = h.stamped_headers;
  if (!Array.isArray(names) || !isPyDict(h.stamps)) return undefined;
  const stamps = h.stamps;
  const out: Record<string, PyValue> = {};
  for (const n of names as PyValue[]) {
    if (typeof n === 'string' && n in stamps) out[n] = stamps[n] as PyValue;
  }
  return out;
}
