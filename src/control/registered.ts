import type { CeleryConfig } from '../config/config';
import { pyRepr, reprNumber } from '../protocol/repr';
import { PyFloat, type PyValue } from '../serialization/py-values';
import type { TaskDefinition } from '../worker/task';

/** `DEFAULT_TASK_INFO_ITEMS` of `celery/worker/control.py`. */
export const DEFAULT_TASK_INFO_ITEMS = ['exchange', 'routing_key', 'rate_limit'] as const;

/** Python `str(value)` of an attribute value. */
function pyStr(v: PyValue): string {
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number' || typeof v === 'bigint' || v instanceof PyFloat) return reprNumber(v);
  return typeof v === 'string' ? v : pyRepr(v);
}

/**
 * The Python `Task` attributes of a TypeScript task (`celery/app/task.py` class defaults, the
 * app's `task_*` settings, then the task's own options and control changes); `None` is absent.
 */
export function taskAttributes(
  def: TaskDefinition,
  config: CeleryConfig,
  limits?: { hard: PyValue; soft: PyValue },
): Record<string, PyValue> {
  const o = def.options;
  const attrs: Record<string, PyValue | undefined> = {
    name: def.name,
    serializer: config.taskSerializer,
    max_retries: o.maxRetries === undefined ? 3 : o.maxRetries,
    default_retry_delay: o.defaultRetryDelay ?? 180,
    rate_limit: o.rateLimit ?? null,
    ignore_result: o.ignoreResult ?? config.taskIgnoreResult,
    store_errors_even_if_ignored: o.storeErrorsEvenIfIgnored ?? config.taskStoreErrorsEvenIfIgnored,
    send_events: o.sendEvents ?? true,
    acks_late: o.acksLate ?? config.taskAcksLate,
    reject_on_worker_lost: o.rejectOnWorkerLost ?? null,
    track_started: o.trackStarted ?? config.taskTrackStarted,
    time_limit: limits ? limits.hard : (o.timeLimit ?? config.taskTimeLimit),
    soft_time_limit: limits ? limits.soft : (o.softTimeLimit ?? config.taskSoftTimeLimit),
    typing: true,
    priority: null,
    expires: null,
    store_eager_result: config.taskStoreEagerResult,
  };
  const out: Record<string, PyValue> = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) out[k] = v;
  return out;
}

/**
 * One `registered` entry (`celery/worker/control.py`, `registered._extract_info`): the name, or
 * `name [attr=value …]` for the requested attributes that are not None.
 */
export function registeredEntry(
  attrs: Readonly<Record<string, PyValue>>,
  name: string,
  items: readonly string[],
): string {
  const fields = items
    .filter((i) => !i.startsWith('_'))
    .filter((i) => attrs[i] !== undefined && attrs[i] !== null)
    .map((i) => `${i}=${pyStr(attrs[i] as PyValue)}`);
  return fields.length > 0 ? `${name} [${[...new Set(fields)].join(' ')}]` : name;
}
