import { ProtocolError } from '../errors/errors';
import { dumps } from '../serialization/registry';
import type { JsonDialect } from '../serialization/python-json';
import { isPyDict, type PyValue } from '../serialization/py-values';
import { pyFloat } from './event';
import type { RawMessage } from './raw-message';

/** `'%s.pidbox'` / `'reply.%s.pidbox'` of the control exchange name (`kombu/pidbox.py`, `Mailbox`). */
export function pidboxExchange(controlExchange = 'celery'): string {
  return `${controlExchange}.pidbox`;
}
/** The direct exchange replies are sent to. */
export function replyExchange(controlExchange = 'celery'): string {
  return `reply.${controlExchange}.pidbox`;
}
/** A worker's own pidbox queue: `<hostname>.<exchange>.pidbox`. */
export function pidboxQueue(hostname: string, controlExchange = 'celery'): string {
  return `${hostname}.${pidboxExchange(controlExchange)}`;
}
/** A client's reply queue: `<oid>.reply.<exchange>.pidbox`. */
export function replyQueue(oid: string, controlExchange = 'celery'): string {
  return `${oid}.${replyExchange(controlExchange)}`;
}

/** A control request (`Mailbox._publish`). */
export interface ControlRequest {
  method: string;
  arguments?: Readonly<Record<string, PyValue>>;
  /** Worker hostnames, or null for all. */
  destination?: readonly string[] | null;
  pattern?: string | null;
  matcher?: string | null;
  /** Set when replies are wanted; `replyTo` must then be given. */
  ticket?: string | null;
  /** The client's mailbox oid (reply routing key). */
  oid?: string;
  controlExchange?: string;
}

/**
 * The request body: `method, arguments, destination, pattern, matcher` and, when a reply is
 * wanted, `ticket, reply_to: {exchange, routing_key}`.
 */
export function buildControlBody(r: ControlRequest): Record<string, PyValue> {
  const body: Record<string, PyValue> = {
    method: r.method,
    arguments: { ...(r.arguments ?? {}) },
    destination: r.destination ? [...r.destination] : null,
    pattern: r.pattern ?? null,
    matcher: r.matcher ?? null,
  };
  if (r.ticket) {
    if (r.oid === undefined)
      throw new RangeError('a control request with a ticket needs the reply oid');
    body.ticket = r.ticket;
    body.reply_to = { exchange: replyExchange(r.controlExchange), routing_key: r.oid };
  }
  return body;
}

/** A message with its destination. */
export interface ControlPublish {
  message: RawMessage;
  exchange: string;
  routingKey: string;
}

function encode(
  body: PyValue,
  serializer: string | undefined,
  jsonDialect: JsonDialect | undefined,
) {
  return dumps(body, serializer ?? 'json', jsonDialect ? { jsonDialect } : {});
}

/**
 * A broadcast to the fanout `celery.pidbox` exchange: headers `{clock, expires}` where `expires`
 * is `now + timeout` (float seconds) or 0 without timeout; delivery_mode 2.
 */
export function controlRequestMessage(
  r: ControlRequest,
  o: {
    clock: number;
    now: number;
    timeout?: number | null;
    serializer?: string;
    jsonDialect?: JsonDialect;
  },
): ControlPublish {
  const enc = encode(buildControlBody(r), o.serializer, o.jsonDialect);
  return {
    message: {
      body: enc.body,
      contentType: enc.contentType,
      contentEncoding: enc.contentEncoding,
      headers: { clock: o.clock, expires: o.timeout ? pyFloat(o.now + o.timeout) : 0 },
      properties: { delivery_mode: 2, priority: 0 },
    },
    exchange: pidboxExchange(r.controlExchange),
    routingKey: '',
  };
}

/**
 * A worker's reply (`Mailbox._publish_reply`): body `{hostname: reply}`, headers `{ticket,
 * clock}`, transient delivery_mode 1, to the direct reply exchange with the client's oid as key.
 */
export function controlReplyMessage(o: {
  hostname: string;
  reply: PyValue;
  /** The request's ticket (kombu passes `body.get('ticket')`, so it may be None). */
  ticket: string | null;
  clock: number;
  replyTo: { exchange: string; routing_key: string };
  serializer?: string;
  jsonDialect?: JsonDialect;
}): ControlPublish {
  const enc = encode({ [o.hostname]: o.reply }, o.serializer, o.jsonDialect);
  return {
    message: {
      body: enc.body,
      contentType: enc.contentType,
      contentEncoding: enc.contentEncoding,
      headers: { ticket: o.ticket, clock: o.clock },
      properties: { delivery_mode: 1, priority: 0 },
    },
    exchange: o.replyTo.exchange,
    routingKey: o.replyTo.routing_key,
  };
}

/** A validated inbound control request. */
export interface ParsedControlRequest {
  method: string;
  arguments: Record<string, PyValue>;
  destination: string[] | null;
  pattern: string | null;
  matcher: string | null;
  ticket: string | null;
  replyTo: { exchange: string; routing_key: string } | null;
}

/** Validate a control request body (`kombu/pidbox.py`, `Node.handle_message`). */
export function parseControlRequest(v: PyValue): ParsedControlRequest {
  if (!isPyDict(v)) throw new ProtocolError('control message is not an object', { path: '' });
  const {
    method,
    destination = null,
    pattern = null,
    matcher = null,
    ticket = null,
    reply_to = null,
  } = v;
  const args = v.arguments ?? {};
  if (typeof method !== 'string')
    throw new ProtocolError('control method missing', { path: '/method' });
  if (!isPyDict(args))
    throw new ProtocolError('control arguments is not an object', { path: '/arguments' });
  if (
    destination !== null &&
    !(Array.isArray(destination) && destination.every((d) => typeof d === 'string'))
  ) {
    throw new ProtocolError('destination is not a list of names', { path: '/destination' });
  }
  if (pattern !== null && typeof pattern !== 'string')
    throw new ProtocolError('pattern is not a string', { path: '/pattern' });
  if (matcher !== null && typeof matcher !== 'string')
    throw new ProtocolError('matcher is not a string', { path: '/matcher' });
  if (ticket !== null && typeof ticket !== 'string')
    throw new ProtocolError('ticket is not a string', { path: '/ticket' });
  let replyTo: ParsedControlRequest['replyTo'] = null;
  if (reply_to !== null) {
    if (
      !isPyDict(reply_to) ||
      typeof reply_to.exchange !== 'string' ||
      typeof reply_to.routing_key !== 'string'
    ) {
      throw new ProtocolError('reply_to must be {exchange, routing_key}', { path: '/reply_to' });
    }
    replyTo = { exchange: reply_to.exchange, routing_key: reply_to.routing_key };
  }
  return {
    method,
    arguments: args,
    destination: destination === null ? null : [...destination],
    pattern,
    matcher,
    ticket,
    replyTo,
  };
}
