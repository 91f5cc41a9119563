import { ProtocolError } from '../errors/errors';
import { dumps } from '../serialization/registry';
import type { JsonDialect } from '../serialization/python-json';
import { PyFloat, isPyDict, type PyValue } from '../serialization/py-values';
import { getProfile, type CeleryProfile, type CeleryProfileName } from './profiles';
import type { RawMessage } from './raw-message';

/** Celery's event exchange (`event_exchange`): topic on AMQP, fanout on Redis (`get_exchange`). */
export const EVENT_EXCHANGE = 'celeryev';

/** A Python float, kept a float on the wire even when integral (`2.0`, `0.0`). */
export function pyFloat(x: number): number | PyFloat {
  return Number.isInteger(x) ? new PyFloat(x) : x;
}

/** Who sends the event: `EventDispatcher` state (`celery/events/dispatcher.py`). */
export interface EventSender {
  hostname: string;
  pid: number;
  /** Lamport clock value after `clock.forward()`; `null` for blind events. */
  clock: number | null;
  /** Offset to UTC in hours (0 for UTC). */
  utcoffsetHours: number;
  /** `time.time()` at sending. */
  timestamp: number;
  profile?: CeleryProfileName | CeleryProfile;
}

/**
 * An event dict exactly as `EventDispatcher._prepare_event` + `Event` build it: `hostname,
 * utcoffset, pid, clock, <fields…>, timestamp, type`. A `timestamp` given in `fields` keeps its
 * position and only `type` is appended (`celery/events/event.py`, `Event`).
 */
export function buildEvent(
  type: string,
  fields: Readonly<Record<string, PyValue>>,
  s: EventSender,
): Record<string, PyValue> {
  const profile = getProfile(s.profile);
  const ev: Record<string, PyValue> = {
    hostname: s.hostname,
    utcoffset: profile.floatUtcoffset ? pyFloat(s.utcoffsetHours) : Math.floor(s.utcoffsetHours),
    pid: s.pid,
    clock: s.clock,
    ...fields,
  };
  if (!('timestamp' in fields)) ev.timestamp = pyFloat(s.timestamp);
  ev.type = type;
  return ev;
}

/** Routing key of an event: the type with `-` → `.` (`EventDispatcher.publish`). */
export function eventRoutingKey(type: string): string {
  return type.replace(/-/g, '.');
}

/** Routing key of a buffered group flush: `<group>.multi` (`EventDispatcher.flush`). */
export function multiEventRoutingKey(group: string): string {
  return `${group}.multi`;
}

/** An event ready to publish: message plus destination. */
export interface EventPublish {
  message: RawMessage;
  exchange: string;
  routingKey: string;
}

/**
 * The message `EventDispatcher._publish` sends: body the event (or a list for `.multi`), headers
 * `{hostname}`, transient `delivery_mode` 1, priority 0.
 */
export function eventMessage(
  event: Record<string, PyValue> | readonly Record<string, PyValue>[],
  opts: {
    hostname: string;
    routingKey: string;
    serializer?: string;
    jsonDialect?: JsonDialect;
    /** `event_exchange` (default `celeryev`). */
    exchange?: string;
  },
): EventPublish {
  const enc = dumps(
    event,
    opts.serializer ?? 'json',
    opts.jsonDialect ? { jsonDialect: opts.jsonDialect } : {},
  );
  return {
    message: {
      body: enc.body,
      contentType: enc.contentType,
      contentEncoding: enc.contentEncoding,
      headers: { hostname: opts.hostname },
      properties: { delivery_mode: 1, priority: 0 },
    },
    exchange: opts.exchange ?? EVENT_EXCHANGE,
    routingKey: opts.routingKey,
  };
}

/** Worker-state fields of online/heartbeat/offline events (`celery/worker/heartbeat.py`, `Heart._send`). */
export function workerEventFields(w: {
  freq: number;
  active: number;
  processed: number;
  loadavg: readonly [number, number, number];
  swVer: string;
  swSys: string;
  swIdent?: string;
}): Record<string, PyValue> {
  return {
    freq: pyFloat(w.freq),
    active: w.active,
    processed: w.processed,
    loadavg: w.loadavg.map(pyFloat),
    sw_ident: w.swIdent ?? 'py-celery',
    sw_ver: w.swVer,
    sw_sys: w.swSys,
  };
}

/** A validated inbound event. */
export interface ParsedEvent {
  type: string;
  hostname: string | null;
  timestamp: number | null;
  clock: number | null;
  fields: Record<string, PyValue>;
}

function n(v: PyValue | undefined): number | null {
  if (v instanceof PyFloat) return v.value;
  return typeof v === 'number' ? v : null;
}

/** Validate one event dict (only `type` is required, as in `Event`). */
export function parseEvent(v: PyValue, path = ''): ParsedEvent {
  if (!isPyDict(v)) throw new ProtocolError('event is not an object', { path });
  if (typeof v.type !== 'string')
    throw new ProtocolError('event type missing', { path: `${path}/type` });
  return {
    type: v.type,
    hostname: typeof v.hostname === 'string' ? v.hostname : null,
    timestamp: n(v.timestamp),
    clock: n(v.clock),
    fields: v,
  };
}

/** Parse an event body: one event, or a list of them (`.multi` group flushes). */
export function parseEventBody(v: PyValue): ParsedEvent[] {
  if (Array.isArray(v))
    return (v as readonly PyValue[]).map((e, i) => parseEvent(e, `/${String(i)}`));
  return [parseEvent(v)];
}
