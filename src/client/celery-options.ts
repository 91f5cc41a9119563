import type { SignatureDict } from '../protocol/signature';
import { isPyDict, PyDateTime, PyFloat, type PyValue } from '../serialization/py-values';
import type { ApplyOptions } from './apply-options';

/**
 * The one table from Celery's snake_case `apply_async` options (as they travel in signature
 * options, chain steps and links, or come from a retry's `signature_from_request`) to the
 * client's camelCase {@link ApplyOptions}: used by the client, the canvas and the worker's retry.
 * Sources: `celery/app/task.py`, `Task.apply_async`; `celery/app/base.py`, `Celery.send_task`;
 * `celery/app/amqp.py`, `send_task_message` (whose named parameters are consumed, and whose
 * `**kwargs` become message properties).
 */

/** Options Celery reads itself and never puts on the wire. */
export const CONSUMED_OPTIONS: ReadonlySet<string> = new Set([
  // `Task.apply_async` / `send_task`
  'producer',
  'add_to_parent',
  'connection',
  'router',
  'result_cls',
  'publisher',
  'route_name',
  'subtask_type',
  'task_type',
  // `send_task_message` parameters
  'retry',
  'retry_policy',
  'declare',
  'event_dispatcher',
  'timeout',
  'confirm_timeout',
]);

type Setter = (o: ApplyOptions, v: PyValue) => void;

const str = (v: PyValue): string | undefined => (typeof v === 'string' ? v : undefined);
const int = (v: PyValue): number | undefined => (typeof v === 'number' ? v : undefined);
/** A Python int or float as a JS number (for values that are not sent as they are). */
const seconds = (v: PyValue): number | undefined =>
  typeof v === 'number' ? v : v instanceof PyFloat ? v.value : undefined;
/** A Python float stays a float on the wire (`timelimit: [10.0, null]`). */
const limit = (v: PyValue): number | PyFloat | undefined =>
  typeof v === 'number' || v instanceof PyFloat ? v : undefined;
const sigs = (v: PyValue): SignatureDict[] | undefined =>
  v === null ? undefined : ((Array.isArray(v) ? v : [v]) as SignatureDict[]);

function set<K extends keyof ApplyOptions>(o: ApplyOptions, k: K, v: ApplyOptions[K] | undefined) {
  if (v !== undefined) o[k] = v;
}

/** kombu's `DELIVERY_MODES` (`kombu/entity.py`): names or the AMQP numbers. */
function deliveryMode(v: PyValue): 1 | 2 | undefined {
  if (v === 1 || v === 'transient') return 1;
  if (v === 2 || v === 'persistent') return 2;
  return undefined;
}

function exchangeType(v: PyValue): ApplyOptions['exchangeType'] {
  return v === 'direct' || v === 'topic' || v === 'fanout' || v === 'headers' ? v : undefined;
}

/** snake_case option → setter of the camelCase option. */
export const CELERY_APPLY_OPTIONS: Readonly<Record<string, Setter>> = {
  task_id: (o, v) => {
    set(o, 'taskId', str(v));
  },
  countdown: (o, v) => {
    set(o, 'countdown', seconds(v));
  },
  // A datetime (kombu ≥5.3 decodes `__type__: datetime` to one) or its ISO text (older kombu).
  eta: (o, v) => {
    set(o, 'eta', v instanceof PyDateTime || typeof v === 'string' ? v : undefined);
  },
  expires: (o, v) => {
    set(
      o,
      'expires',
      v instanceof PyDateTime ||
        v instanceof PyFloat ||
        typeof v === 'string' ||
        typeof v === 'number'
        ? v
        : undefined,
    );
  },
  queue: (o, v) => {
    set(o, 'queue', str(v));
  },
  exchange: (o, v) => {
    set(o, 'exchange', str(v));
  },
  exchange_type: (o, v) => {
    set(o, 'exchangeType', exchangeType(v));
  },
  routing_key: (o, v) => {
    set(o, 'routingKey', str(v));
  },
  priority: (o, v) => {
    set(o, 'priority', int(v));
  },
  delivery_mode: (o, v) => {
    set(o, 'deliveryMode', deliveryMode(v));
  },
  serializer: (o, v) => {
    set(o, 'serializer', str(v));
  },
  compression: (o, v) => {
    set(o, 'compression', str(v));
  },
  headers: (o, v) => {
    set(o, 'headers', isPyDict(v) ? v : undefined);
  },
  time_limit: (o, v) => {
    set(o, 'timeLimit', limit(v));
  },
  soft_time_limit: (o, v) => {
    set(o, 'softTimeLimit', limit(v));
  },
  retries: (o, v) => {
    set(o, 'retries', int(v));
  },
  shadow: (o, v) => {
    set(o, 'shadow', str(v));
  },
  link: (o, v) => {
    set(o, 'link', sigs(v));
  },
  link_error: (o, v) => {
    set(o, 'linkError', sigs(v));
  },
  ignore_result: (o, v) => {
    set(o, 'ignoreResult', typeof v === 'boolean' ? v : undefined);
  },
  reply_to: (o, v) => {
    set(o, 'replyTo', str(v));
  },
  root_id: (o, v) => {
    set(o, 'rootId', str(v));
  },
  parent_id: (o, v) => {
    set(o, 'parentId', str(v));
  },
  group_id: (o, v) => {
    set(o, 'groupId', str(v));
  },
  replaced_task_nesting: (o, v) => {
    set(o, 'replacedTaskNesting', int(v));
  },
  group_index: (o, v) => {
    set(o, 'groupIndex', int(v));
  },
  origin: (o, v) => {
    set(o, 'origin', str(v));
  },
};

/**
 * Split Celery options into the client's options, the `chain`/`chord` embed, and the leftovers
 * that kombu sends as message properties (`properties.update(kwargs)`). None values are unset.
 */
export function fromCeleryOptions(options: Readonly<Record<string, PyValue>>): {
  apply: ApplyOptions;
  chain: SignatureDict[] | null;
  chord: SignatureDict | null;
} {
  const apply: ApplyOptions = {};
  const props: Record<string, PyValue> = {};
  for (const [k, v] of Object.entries(options)) {
    // Consumed by `send_task` itself, never on the wire; the client still honours it.
    if (k === 'add_to_parent' && typeof v === 'boolean') apply.addToParent = v;
    if (k === 'chain' || k === 'chord' || CONSUMED_OPTIONS.has(k) || v === null) continue;
    const s = CELERY_APPLY_OPTIONS[k];
    if (s) s(apply, v);
    else props[k] = v;
  }
  if (Object.keys(props).length > 0) apply.properties = props;
  const ch = options.chain;
  const cd = options.chord;
  return {
    apply,
    chain: Array.isArray(ch) && ch.length > 0 ? (ch as SignatureDict[]) : null,
    chord: isPyDict(cd) ? cd : null,
  };
}
