import type { JsonDialect } from '../serialization/python-json';
import { PyDateTime, PyFloat, type PyValue } from '../serialization/py-values';
import type { CeleryProfile, CeleryProfileName } from './profiles';
import type { SignatureDict } from './signature';
import {
  isoformatMicros,
  parseIsoMicros,
  secondsToMicros,
  toEpochMicros,
  type Instant,
} from './time';

/**
 * Everything `apply_async`/`send_task` put into one task message, camelCased. Routing
 * (queue/exchange/routing key) is not here: see `route.ts`, `routeTask`.
 */
export interface TaskInput {
  task: string;
  id: string;
  args?: readonly PyValue[];
  kwargs?: Readonly<Record<string, PyValue>>;
  /** Python callers pass args as a tuple (argsrepr `(1, 2)`); set to show a list (`[1, 2]`). */
  argsAreList?: boolean;
  /** Seconds from `env.now`; 0 means none (Python's `if countdown:`). */
  countdown?: number;
  /** A datetime (isoformat'ed) or an ISO string (passed through untouched, as on retry). */
  eta?: Instant | string | null;
  /** Seconds from now, a datetime, or an ISO string. */
  expires?: number | PyFloat | Instant | string | null;
  priority?: number;
  /** Serializer name or MIME type (default `json`). */
  serializer?: string;
  /** Compression alias or MIME (`gzip`, `zlib`, `bzip2`, …). */
  compression?: string | null;
  /** Custom headers, merged after Celery's own (`headers2.update(headers)`). */
  headers?: Readonly<Record<string, PyValue>>;
  timeLimit?: number | PyFloat | null;
  softTimeLimit?: number | PyFloat | null;
  retries?: number;
  shadow?: string | null;
  link?: SignatureDict | readonly SignatureDict[] | null;
  linkError?: SignatureDict | readonly SignatureDict[] | null;
  /** Remaining chain steps, in Celery's reversed order. */
  chain?: readonly SignatureDict[] | null;
  /** Chord body, for chord-header members. */
  chord?: SignatureDict | null;
  groupId?: string | null;
  groupIndex?: number | null;
  rootId?: string | null;
  parentId?: string | null;
  /** Default: the profile's `send_task` default (`null` on 5.7, `false` before). */
  ignoreResult?: boolean | null;
  replacedTaskNesting?: number;
  /** The `origin` header when the line takes the caller's (`originOption`); default the sender's. */
  origin?: string;
  /** Canvas stamps; `stamped_headers` becomes their names (null when absent). */
  stamps?: Readonly<Record<string, PyValue>>;
  /** Overrides `env.replyTo`. */
  replyTo?: string;
  protocol?: 1 | 2;
  jsonDialect?: JsonDialect;
  profile?: CeleryProfileName | CeleryProfile;
  /** `delivery_mode` (default 2, persistent). */
  deliveryMode?: number;
  argsrepr?: string;
  kwargsrepr?: string;
  /** `task_repr_maxlevels` (default 3). */
  reprMaxLevels?: number;
  /** Unknown `apply_async` options land in the properties (`properties.update(kwargs)`). */
  extraProperties?: Readonly<Record<string, PyValue>>;
  /** v1 only: the app's `enable_utc` (default true). */
  utc?: boolean;
}

/** Injected process state: Celery's `app.now()`, `anon_nodename()` and `app.thread_oid`. */
export interface EncodeEnv {
  now: Instant;
  /** `gen<pid>@<hostname>` */
  origin: string;
  /** The client's reply queue oid, used when the input has no `replyTo`. */
  replyTo: string;
}

const DT_PARTS =
  /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(?::(\d{2}))?(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2}(?::?\d{2}(?:\.\d+)?)?)?$/;

/** Python `datetime.isoformat()` of a datetime value (naivety and offset kept). */
export function datetimeIsoformat(v: Instant): string {
  if (v instanceof Date) return isoformatMicros(toEpochMicros(v));
  const m = DT_PARTS.exec(v.iso);
  if (!m) return v.iso;
  const [, date = '', hm = '', sec = '00', frac, off] = m;
  const us = frac === undefined ? 0 : Number(frac.padEnd(6, '0').slice(0, 6));
  let tz = '';
  if (off !== undefined) {
    if (off === 'Z') tz = '+00:00';
    else {
      const d = off.slice(1).replace(/:/g, '');
      tz = `${off[0] ?? '+'}${d.slice(0, 2)}:${d.slice(2, 4)}${d.length > 4 ? `:${d.slice(4, 6)}` : ''}`;
    }
  }
  return `${date}T${hm}:${sec}${us ? `.${String(us).padStart(6, '0')}` : ''}${tz}`;
}

function isInstant(v: unknown): v is Instant {
  return v instanceof Date || v instanceof PyDateTime;
}

/** The `eta` header: countdown wins (as in `as_task_v2`), then a datetime, then a string. */
export function etaHeader(input: TaskInput, now: Instant): string | null {
  if (input.countdown)
    return isoformatMicros(toEpochMicros(now) + secondsToMicros(input.countdown));
  const eta = input.eta;
  if (eta === undefined || eta === null) return null;
  return typeof eta === 'string' ? eta : datetimeIsoformat(eta);
}

function expiresSeconds(v: number | PyFloat): number {
  return v instanceof PyFloat ? v.value : v;
}

/** The `expires` header: seconds are added to `now`; datetimes isoformat'ed; strings kept. */
export function expiresHeader(input: TaskInput, now: Instant): string | null {
  const ex = input.expires;
  if (ex === undefined || ex === null) return null;
  if (typeof ex === 'number' || ex instanceof PyFloat) {
    return isoformatMicros(toEpochMicros(now) + secondsToMicros(expiresSeconds(ex)));
  }
  return typeof ex === 'string' ? ex : datetimeIsoformat(ex);
}

/**
 * The AMQP `expiration` property (`Celery.send_task`, Celery ≥5.2): remaining seconds, clamped at
 * 0, sent by kombu as `str(int(expiration * 1000))` (`kombu/messaging.py`, `Producer.publish`).
 */
export function expirationProperty(input: TaskInput, now: Instant): string | undefined {
  const ex = input.expires;
  if (ex === undefined || ex === null) return undefined;
  let seconds: number;
  if (typeof ex === 'number' || ex instanceof PyFloat) seconds = expiresSeconds(ex);
  else {
    const target =
      typeof ex === 'string'
        ? parseIsoMicros(ex, '/expires')
        : isInstant(ex)
          ? toEpochMicros(ex)
          : 0;
    // timedelta.total_seconds(): exact µs difference divided by 10**6.
    seconds = (target - toEpochMicros(now)) / 1e6;
  }
  if (seconds < 0) seconds = 0;
  return String(Math.trunc(seconds * 1000));
}

/** `maybe_list(link)`: null stays null, one signature becomes a one-element list. */
export function maybeList(v: SignatureDict | readonly SignatureDict[] | null | undefined): PyValue {
  if (v === undefined || v === null) return null;
  return Array.isArray(v) ? [...(v as readonly SignatureDict[])] : [v];
}

/** `[time_limit, soft_time_limit]`: hard first (`as_task_v2`). */
export function timelimitPair(input: TaskInput): PyValue[] {
  return [input.timeLimit ?? null, input.softTimeLimit ?? null];
}
