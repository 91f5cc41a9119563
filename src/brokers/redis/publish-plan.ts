import type { DeliveryInfo, RawMessage } from '../../protocol/raw-message';
import type { ExchangeType, PublishItem } from '../broker';
import { RedisKeyspace } from './keyspace';
import { bindingPattern, lookupQueues } from './routing';

/**
 * Planning of a pipelined Redis publish batch, kept pure so that the broker only does I/O.
 * kombu publishes one message at a time (`kombu/transport/virtual/base.py`,
 * `Channel.basic_publish` → `_lookup` → `_put` = one SMEMBERS and one LPUSH per message); a batch
 * yields the same list contents with one SADD per distinct binding, one SMEMBERS per distinct
 * exchange, and adjacent LPUSHes to one key merged into a variadic LPUSH (`LPUSH k a b` leaves
 * the list exactly as `LPUSH k a` then `LPUSH k b`).
 */

/** One `Queue.declare` of the batch: `SADD _kombu.binding.<exchange> <member>`. */
export interface BindingDeclaration {
  queue: string;
  exchange: string;
  type: ExchangeType;
  key: string;
  member: string;
}

/** A Redis write of the batch, in publish order. */
export type PublishCommand =
  | { kind: 'lpush'; key: string; values: string[] }
  | { kind: 'publish'; channel: string; value: string };

const DEFAULT_KEYSPACE = new RedisKeyspace({ db: 0 });

/** Values per variadic LPUSH: bounds a single command's size on the wire. */
export const MAX_LPUSH_VALUES = 1000;

/**
 * Distinct declarations of the batch in first-seen order (kombu `maybe_declare` caches per
 * entity, so repeating a declaration within one batch adds nothing but round trips).
 */
export function collectDeclarations(
  items: readonly PublishItem[],
  keys: RedisKeyspace = DEFAULT_KEYSPACE,
): BindingDeclaration[] {
  const seen = new Map<string, BindingDeclaration>();
  let last: PublishItem['target']['queue'];
  for (const { target } of items) {
    const spec = target.queue;
    // Clients reuse one spec object, or build equal ones per message: compare cheaply first.
    if (!spec || spec === last) continue;
    last = spec;
    const exchange = spec.exchange ?? spec.name;
    if (exchange === '') continue;
    const type = spec.exchangeType ?? 'direct';
    const rk = spec.routingKey ?? spec.name;
    const id = `${exchange}\0${type}\0${rk}\0${spec.name}`;
    if (seen.has(id)) continue;
    const member = keys.member(rk, bindingPattern(type, rk), spec.name);
    seen.set(id, { queue: spec.name, exchange, type, key: keys.binding(exchange), member });
  }
  return [...seen.values()];
}

/** Exchanges whose binding table the batch must read (not anonymous, not fanout). */
export function exchangesToLookup(
  items: readonly PublishItem[],
  typeOf: (exchange: string) => ExchangeType | undefined,
): string[] {
  const out = new Set<string>();
  for (const { target } of items) {
    const ex = target.exchange;
    if (ex !== '' && typeOf(ex) !== 'fanout') out.add(ex);
  }
  return [...out];
}

/** What {@link planPublishes} needs besides the items. */
export interface PlanContext {
  typeOf: (exchange: string) => ExchangeType | undefined;
  /** SMEMBERS of `_kombu.binding.<exchange>` for every exchange of {@link exchangesToLookup}. */
  members: ReadonlyMap<string, readonly string[]>;
  /** Envelope text of one message (a fresh delivery tag per call, as kombu per publish). */
  encode: (message: RawMessage, deliveryInfo: DeliveryInfo) => string;
  db: number;
  /** Key names under the transport options (default: kombu's, for `db`). */
  keyspace?: RedisKeyspace;
}

function pushTo(cmds: PublishCommand[], key: string, value: string): void {
  const last = cmds[cmds.length - 1];
  if (last?.kind === 'lpush' && last.key === key && last.values.length < MAX_LPUSH_VALUES) {
    last.values.push(value);
  } else {
    cmds.push({ kind: 'lpush', key, values: [value] });
  }
}

/**
 * The writes of a batch: PUBLISH for fanout exchanges (`Channel._put_fanout`), else LPUSH to each
 * routed queue's priority list (`_get_message_priority(reverse=False)` clamps to 0..9). The
 * routing of one (exchange, routing key) pair is computed once per batch.
 */
export function planPublishes(items: readonly PublishItem[], ctx: PlanContext): PublishCommand[] {
  const cmds: PublishCommand[] = [];
  const routes = new Map<string, string[]>();
  const keys = ctx.keyspace ?? new RedisKeyspace({ db: ctx.db });
  for (const { message, target } of items) {
    const { exchange, routingKey } = target;
    const text = ctx.encode(message, { exchange, routing_key: routingKey });
    const type = ctx.typeOf(exchange);
    if (type === 'fanout') {
      for (const channel of keys.fanoutChannels(exchange, routingKey)) {
        cmds.push({ kind: 'publish', channel, value: text });
      }
      continue;
    }
    const routeId = `${exchange}\0${routingKey}`;
    let queues = routes.get(routeId);
    if (!queues) {
      queues = lookupQueues(
        exchange,
        type ?? 'direct',
        ctx.members.get(exchange) ?? [],
        routingKey,
        keys.sep,
      );
      routes.set(routeId, queues);
    }
    const pri = message.properties.priority;
    for (const q of queues) pushTo(cmds, keys.queueKey(q, pri), text);
  }
  return cmds;
}
