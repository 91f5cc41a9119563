/**
 * RabbitMQ native delayed delivery, as kombu builds it (`kombu/transport/native_delayed_delivery.py`
 * in kombu 5.5.4, 5.6.2 and 5.7.0): 28 topic exchanges `celery_delayed_{27..0}`, each with a queue
 * whose TTL is 2^level s and whose dead-letter exchange is the next level down (level 0 → the
 * delivery exchange `celery_delayed_delivery`). A message published to `celery_delayed_27` with
 * the countdown's 28 binary digits in front of its routing key waits 2^level s in every level
 * whose bit is 1 and skips the others, then reaches the delivery exchange, which routes on to the
 * task queue's exchange through `#.<routing key>` bindings. Pure data; the broker does the I/O.
 */
import type { PyValue } from '../serialization/py-values';

export const MAX_NUMBER_OF_BITS_TO_USE = 28;
export const MAX_LEVEL = MAX_NUMBER_OF_BITS_TO_USE - 1;
export const CELERY_DELAYED_DELIVERY_EXCHANGE = 'celery_delayed_delivery';

/** `^(?:[01]\.){28}` (kombu 5.7 `_delay_prefix_re`). */
const DELAY_PREFIX_RE = new RegExp(`^(?:[01]\\.){${String(MAX_NUMBER_OF_BITS_TO_USE)}}`);

/**
 * `level_name(level, prefix=None)`; the `prefix` argument exists from kombu 5.7 (Celery 5.7.0's
 * bootstep and `send_task` never pass one, so Celery estates use the bare names).
 */
export function levelName(level: number, prefix?: string): string {
  if (level < 0) throw new RangeError('level must be a non-negative number');
  return prefix ? `${prefix}_celery_delayed_${String(level)}` : `celery_delayed_${String(level)}`;
}

/** `_celery_delayed_delivery_exchange(prefix)` (kombu 5.7; the constant before). */
export function deliveryExchange(prefix?: string): string {
  return prefix
    ? `${prefix}_${CELERY_DELAYED_DELIVERY_EXCHANGE}`
    : CELERY_DELAYED_DELIVERY_EXCHANGE;
}

/** Remove one leading 28-digit delay prefix (kombu 5.7 `calculate_routing_key`). */
export function stripDelayPrefix(routingKey: string): string {
  return routingKey.replace(DELAY_PREFIX_RE, '');
}

/** True when `routingKey` starts with a 28-digit delay prefix. */
export function hasDelayPrefix(routingKey: string): boolean {
  return DELAY_PREFIX_RE.test(routingKey);
}

/**
 * `calculate_routing_key(countdown, routing_key)`: the countdown's 28 binary digits joined by
 * dots, then the routing key. kombu 5.7 first strips a delay prefix a retried task carried
 * forward (`stripPrefix`); kombu 5.5/5.6 do not, so there the prefix grows on every retry.
 */
export function calculateRoutingKey(
  countdown: number,
  routingKey: string,
  stripPrefix: boolean,
): string {
  if (countdown < 1) throw new RangeError('countdown must be a positive number');
  if (!routingKey) throw new RangeError('routing_key must be non-empty');
  const rk = stripPrefix ? stripDelayPrefix(routingKey) : routingKey;
  const bits = Math.trunc(countdown).toString(2).padStart(MAX_NUMBER_OF_BITS_TO_USE, '0');
  return `${bits.split('').join('.')}.${rk}`;
}

/** One step of the delay topology, in the order kombu performs them. */
export type DelayStep =
  | { kind: 'exchange'; name: string; type: 'topic' }
  | { kind: 'queue'; name: string; arguments: Record<string, PyValue> }
  | { kind: 'bind-queue'; queue: string; exchange: string; routingKey: string }
  | { kind: 'bind-exchange'; destination: string; source: string; routingKey: string };

/**
 * `declare_native_delayed_delivery_exchanges_and_queues(connection, queue_type, prefix)`: for
 * levels 27…0 the exchange, the queue (`x-queue-type`, `x-overflow: reject-publish`,
 * `x-message-ttl: 2^level·1000`, `x-dead-letter-exchange`, and for quorum
 * `x-dead-letter-strategy: at-least-once`) and its binding `*.`×(27−level)`1.#`; then the
 * `0.#` exchange-to-exchange bindings level → level−1; then the delivery exchange, bound to level
 * 0 with the last key (`*.`×27 `0.#`).
 */
export function delayTopology(queueType: 'classic' | 'quorum', prefix?: string): DelayStep[] {
  const steps: DelayStep[] = [];
  let routingKey = '1.#';
  for (let level = MAX_LEVEL; level >= 0; level--) {
    const current = levelName(level, prefix);
    steps.push({ kind: 'exchange', name: current, type: 'topic' });
    const args: Record<string, PyValue> = {
      'x-queue-type': queueType,
      'x-overflow': 'reject-publish',
      'x-message-ttl': 2 ** level * 1000,
      'x-dead-letter-exchange': level > 0 ? levelName(level - 1, prefix) : deliveryExchange(prefix),
    };
    if (queueType === 'quorum') args['x-dead-letter-strategy'] = 'at-least-once';
    steps.push({ kind: 'queue', name: current, arguments: args });
    steps.push({ kind: 'bind-queue', queue: current, exchange: current, routingKey });
    routingKey = `*.${routingKey}`;
  }
  routingKey = '0.#';
  for (let level = MAX_LEVEL; level > 0; level--) {
    steps.push({
      kind: 'bind-exchange',
      destination: levelName(level - 1, prefix),
      source: levelName(level, prefix),
      routingKey,
    });
    routingKey = `*.${routingKey}`;
  }
  steps.push({ kind: 'exchange', name: deliveryExchange(prefix), type: 'topic' });
  steps.push({
    kind: 'bind-exchange',
    destination: deliveryExchange(prefix),
    source: levelName(0, prefix),
    routingKey,
  });
  return steps;
}

/** A task queue as the binding step needs it. */
export interface DelayQueueRef {
  name: string;
  exchange: string;
  exchangeType: string;
  routingKey: string;
}

/**
 * `bind_queue_to_native_delayed_delivery_exchange(connection, queue, prefix)`: a direct
 * exchange gets kombu's warning and no bindings; otherwise the queue's exchange is bound to the
 * delivery exchange and the queue to its exchange, both with `#.<routing key>` (or the key as is
 * when it starts with `#`).
 */
export function delayBindings(
  q: DelayQueueRef,
  prefix?: string,
): { steps: DelayStep[] } | { warning: string } {
  if (q.exchangeType === 'direct') {
    return {
      warning:
        `Exchange ${q.exchange} is a direct exchange and native delayed delivery do not support direct exchanges.\n` +
        'ETA tasks published to this exchange will block the worker until the ETA arrives.',
    };
  }
  const routingKey = q.routingKey.startsWith('#') ? q.routingKey : `#.${q.routingKey}`;
  return {
    steps: [
      {
        kind: 'bind-exchange',
        destination: q.exchange,
        source: deliveryExchange(prefix),
        routingKey,
      },
      { kind: 'bind-queue', queue: q.name, exchange: q.exchange, routingKey },
    ],
  };
}
