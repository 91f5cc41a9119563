import { getProfile, type CeleryProfile, type CeleryProfileName } from '../protocol/profiles';
import type { SignatureDict } from '../protocol/signature';
import type { TaskInput } from '../protocol/task-input';
import type { Instant } from '../protocol/time';
import type { PyFloat, PyValue } from '../serialization/py-values';

/**
 * `apply_async` / `send_task` options in camelCase (`celery/app/task.py`, `Task.apply_async`;
 * `celery/app/base.py`, `Celery.send_task`). Unknown keys are not accepted: use `properties`.
 */
export interface ApplyOptions {
  args?: readonly PyValue[];
  kwargs?: Readonly<Record<string, PyValue>>;
  /** `task_id` (default: a new uuid4). */
  taskId?: string;
  /** Seconds from now; wins over `eta`, as in `as_task_v2`. */
  countdown?: number;
  /** Absolute earliest run time: a `Date`, a `PyDateTime`, or an ISO-8601 string. */
  eta?: Instant | string;
  /** Seconds from now, a `Date`/`PyDateTime`, or an ISO-8601 string. */
  expires?: number | PyFloat | Instant | string;
  queue?: string;
  exchange?: string;
  exchangeType?: 'direct' | 'topic' | 'fanout' | 'headers';
  routingKey?: string;
  /** 0–255 on RabbitMQ (needs `x-max-priority`), 0–9 on Redis (lower first). */
  priority?: number;
  /** `json` (default), `msgpack`, `yaml` (or a MIME type). */
  serializer?: string;
  /** `gzip`, `zlib`, `bzip2`, … */
  compression?: string;
  /** Extra message headers (merged after Celery's own). */
  headers?: Readonly<Record<string, PyValue>>;
  /** Extra message properties (Celery's `**options` that reach `Producer.publish`). */
  properties?: Readonly<Record<string, PyValue>>;
  /** Seconds; a `PyFloat` stays a float on the wire. */
  timeLimit?: number | PyFloat;
  softTimeLimit?: number | PyFloat;
  retries?: number;
  /** Name shown in logs instead of the task name. */
  shadow?: string;
  /** Callbacks: signature dicts or canvas signatures (`TaskHandle.s()`). */
  link?: SignatureLike | readonly SignatureLike[];
  linkError?: SignatureLike | readonly SignatureLike[];
  /** Do not store or wait for a result (no `on_task_call`). */
  ignoreResult?: boolean;
  protocol?: 1 | 2;
  /** Reply queue (RPC backend); default: the app's oid. */
  replyTo?: string;
  /** Default: the running worker task's root (or its id), as `send_task` in a task body. */
  rootId?: string;
  /** Default: the running worker task's id. */
  parentId?: string;
  /**
   * `add_to_parent` (default true): sent from a task body, record the result among the running
   * task's `children` (its stored meta).
   */
  addToParent?: boolean;
  groupId?: string;
  groupIndex?: number;
  /** `delivery_mode` (default `task_default_delivery_mode`, 2). */
  deliveryMode?: 1 | 2;
  /** `replaced_task_nesting` header (`Task.replace` depth; 5.7 headers). */
  replacedTaskNesting?: number;
  /**
   * `origin`: the sender's node name (default `gen<pid>@<host>`). Celery sends it as a message
   * property on every line, and as the `origin` header from 5.3 (retries keep the request's).
   */
  origin?: string;
}

/** A signature dict, or anything that turns into one (a canvas `Signature`). */
export type SignatureLike = SignatureDict | { toDict(): SignatureDict };

function toDicts(
  v: SignatureLike | readonly SignatureLike[] | undefined,
): SignatureDict | SignatureDict[] | undefined {
  const one = (x: SignatureLike): SignatureDict =>
    'toDict' in x && typeof x.toDict === 'function' ? x.toDict() : (x as SignatureDict);
  if (v === undefined) return undefined;
  return Array.isArray(v) ? (v as readonly SignatureLike[]).map(one) : one(v as SignatureLike);
}

/** App-level defaults that shape a message. */
export interface MessageDefaults {
  serializer: string;
  compression: string | null;
  protocol: 1 | 2;
  deliveryMode: 1 | 2;
  profile: CeleryProfileName;
  jsonDialect: 'kombu-5.3' | 'kombu-legacy';
}

/** Copy `value` under `key` only when defined (exactOptionalPropertyTypes-friendly). */
function put<K extends keyof TaskInput>(
  t: TaskInput,
  key: K,
  value: TaskInput[K] | undefined,
): void {
  if (value !== undefined) t[key] = value;
}

/** Map camelCase options onto the protocol layer's {@link TaskInput}. */
export function toTaskInput(
  name: string,
  id: string,
  o: ApplyOptions,
  d: MessageDefaults,
  priority: number | undefined,
): TaskInput {
  const t: TaskInput = {
    task: name,
    id,
    args: o.args ?? [],
    kwargs: o.kwargs ?? {},
    serializer: o.serializer ?? d.serializer,
    compression: o.compression ?? d.compression,
    protocol: o.protocol ?? d.protocol,
    deliveryMode: o.deliveryMode ?? d.deliveryMode,
    profile: d.profile,
    jsonDialect: d.jsonDialect,
  };
  put(t, 'countdown', o.countdown);
  put(t, 'eta', o.eta);
  put(t, 'expires', o.expires);
  put(t, 'priority', priority);
  put(t, 'headers', o.headers);
  put(t, 'timeLimit', o.timeLimit);
  put(t, 'softTimeLimit', o.softTimeLimit);
  put(t, 'retries', o.retries);
  put(t, 'shadow', o.shadow);
  put(t, 'link', toDicts(o.link));
  put(t, 'linkError', toDicts(o.linkError));
  put(t, 'ignoreResult', o.ignoreResult);
  put(t, 'replyTo', o.replyTo);
  put(t, 'rootId', o.rootId);
  put(t, 'parentId', o.parentId);
  put(t, 'groupId', o.groupId);
  put(t, 'groupIndex', o.groupIndex);
  // The common call names neither: no profile lookup on the send path.
  if (o.replacedTaskNesting === undefined && o.origin === undefined) {
    put(t, 'extraProperties', o.properties);
  } else {
    nestingAndOrigin(t, o, getProfile(d.profile));
  }
  return t;
}

/**
 * `replaced_task_nesting` and `origin` per line: a header where this line's `as_task_v2` names
 * it (nesting from 5.3, origin from 5.3: `originOption`), and otherwise — and for `origin` on
 * every line — a `send_task_message` `**properties` entry, in `Context.as_execution_options`
 * order (nesting, then origin), before the caller's own properties.
 */
function nestingAndOrigin(t: TaskInput, o: ApplyOptions, profile: CeleryProfile): void {
  const nestingHeader = profile.headerKeys.includes('replaced_task_nesting');
  if (nestingHeader) put(t, 'replacedTaskNesting', o.replacedTaskNesting);
  if (profile.originOption === true) put(t, 'origin', o.origin);
  const nestingProp = o.replacedTaskNesting !== undefined && !nestingHeader;
  put(t, 'extraProperties', {
    ...(nestingProp ? { replaced_task_nesting: o.replacedTaskNesting ?? 0 } : {}),
    ...(o.origin === undefined ? {} : { origin: o.origin }),
    ...o.properties,
  });
}
