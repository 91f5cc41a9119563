import { ProtocolError } from '../errors/errors';
import { isPyDict, type PyValue } from '../serialization/py-values';
import { exceptionFromDict, type RebuiltException } from './exception';
import { getProfile, type CeleryProfile, type CeleryProfileName } from './profiles';
import { EXCEPTION_STATES, READY_STATES } from './states';
import { isoformatMicros, toEpochMicros, type Instant } from './time';

/** The parts of the worker's request that `_get_result_meta` reads. */
export interface ResultRequest {
  task?: string | null;
  args?: PyValue;
  kwargs?: PyValue;
  hostname?: string | null;
  retries?: number | null;
  /** `delivery_info.routing_key` becomes `queue`. */
  deliveryInfo?: { routing_key?: string | null } | null;
  group?: string | null;
  parentId?: string | null;
  /** Result tuples of children (`[[id, null], null]`), see {@link resultTuple}. */
  children?: readonly PyValue[];
  stampedHeaders?: readonly string[] | null;
  stamps?: Readonly<Record<string, PyValue>> | null;
}

/** Inputs of {@link buildResultMeta}. */
export interface ResultMetaInput {
  taskId: string;
  state: string;
  /** Already encoded: an exception dict for exception states, else the return value. */
  result: PyValue;
  traceback?: string | null;
  request?: ResultRequest | null;
  /**
   * `children` when there is no request: Celery's `current_task_children(None)` takes them from
   * the task the worker is running (a chord body failed from a header task's completion).
   */
  currentChildren?: readonly PyValue[];
  now: Instant;
  /** `result_extended`. */
  extended?: boolean;
  profile?: CeleryProfileName | CeleryProfile;
}

/** `date_done`: aware `+00:00` isoformat on Celery ≥5.5, naive UTC before; null unless ready. */
export function dateDone(state: string, now: Instant, profile: CeleryProfile): string | null {
  if (!READY_STATES.has(state)) return null;
  return isoformatMicros(toEpochMicros(now), { naive: !profile.awareDateDone });
}

/**
 * The stored result document, key order exactly as `Backend._get_result_meta` + `_store_result`:
 * `status, result, traceback, children, date_done, [group_id], [parent_id], [name, args, kwargs,
 * worker, retries, queue, [stamped_headers, stamps…]], task_id` (`celery/backends/base.py`).
 */
export function buildResultMeta(m: ResultMetaInput): Record<string, PyValue> {
  const profile = getProfile(m.profile);
  const r = m.request ?? null;
  const meta: Record<string, PyValue> = {
    status: m.state,
    result: m.result,
    traceback: m.traceback ?? null,
    children: [...(r ? (r.children ?? []) : (m.currentChildren ?? []))],
    date_done: dateDone(m.state, m.now, profile),
  };
  if (r?.group) meta.group_id = r.group;
  if (r?.parentId) meta.parent_id = r.parentId;
  if (m.extended === true && r) {
    meta.name = r.task ?? null;
    meta.args = r.args ?? null;
    meta.kwargs = r.kwargs ?? null;
    meta.worker = r.hostname ?? null;
    meta.retries = r.retries ?? null;
    meta.queue = r.deliveryInfo ? (r.deliveryInfo.routing_key ?? null) : null;
    if (r.stamps && Object.keys(r.stamps).length > 0) {
      meta.stamped_headers = r.stampedHeaders ? [...r.stampedHeaders] : null;
      for (const [k, v] of Object.entries(r.stamps)) if (r.stampedHeaders?.includes(k)) meta[k] = v;
    }
  }
  meta.task_id = m.taskId;
  return meta;
}

/**
 * The body of an RPC-backend result message (`celery/backends/rpc.py`, `RPCBackend.store_result`):
 * 5 keys `task_id, status, result, traceback, children` up to 5.6, the full document on 5.7.0.
 */
export function buildRpcResultBody(m: ResultMetaInput): Record<string, PyValue> {
  const profile = getProfile(m.profile);
  if (profile.rpcFullMeta) return buildResultMeta(m);
  return {
    task_id: m.taskId,
    status: m.state,
    result: m.result,
    traceback: m.traceback ?? null,
    children: [...(m.request?.children ?? [])],
  };
}

/** `AsyncResult.as_tuple()`: `[[id, parent], null]`. */
export function resultTuple(taskId: string, parent: PyValue = null): PyValue {
  return [[taskId, parent], null];
}

/** `GroupResult.as_tuple()`: `[[gid, parent], [child tuples…]]`. */
export function groupResultTuple(
  groupId: string,
  childIds: readonly string[],
  parent: PyValue = null,
): PyValue {
  return [[groupId, parent], childIds.map((id) => resultTuple(id))];
}

/** The value `GroupResult.save()` stores under `celery-taskset-meta-<gid>`. */
export function groupMetaValue(
  groupId: string,
  childIds: readonly string[],
): Record<string, PyValue> {
  return { result: groupResultTuple(groupId, childIds) };
}

/** A result document read back by a client. */
export interface ParsedResultMeta {
  taskId: string | null;
  status: string;
  result: PyValue;
  traceback: string | null;
  children: readonly PyValue[];
  dateDone: string | null;
  /** Set for exception states whose result is an exception dict. */
  error: RebuiltException | null;
  raw: Record<string, PyValue>;
}

/**
 * Validate a decoded result document (Redis value or RPC body). A missing key is what
 * `_get_task_meta_for` reports as PENDING; exception states get their error rebuilt.
 */
export function parseResultMeta(v: PyValue): ParsedResultMeta {
  if (!isPyDict(v)) throw new ProtocolError('result document is not an object', { path: '' });
  const status = v.status;
  if (typeof status !== 'string')
    throw new ProtocolError('result status missing', { path: '/status' });
  const tb = v.traceback ?? null;
  if (tb !== null && typeof tb !== 'string')
    throw new ProtocolError('traceback is not a string', { path: '/traceback' });
  const children = v.children ?? [];
  if (!Array.isArray(children))
    throw new ProtocolError('children is not a list', { path: '/children' });
  const dd = v.date_done ?? null;
  const result = v.result ?? null;
  const error =
    EXCEPTION_STATES.has(status) && isPyDict(result) && 'exc_type' in result
      ? exceptionFromDict(result, '/result')
      : null;
  return {
    taskId: typeof v.task_id === 'string' ? v.task_id : null,
    status,
    result,
    traceback: tb,
    children: children as readonly PyValue[],
    dateDone: typeof dd === 'string' ? dd : null,
    error,
    raw: v,
  };
}
