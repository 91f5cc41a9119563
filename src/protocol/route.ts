/**
 * Where a task message is published. Kept apart from {@link RawMessage} because routing is the
 * broker's business, not the message's. The rules are `celery/app/amqp.py`,
 * `AMQP._create_task_sender.send_task_message`, and `celery/app/routes.py`, `Router.route`.
 */

/** Routing options as `apply_async` takes them. */
export interface RouteOptions {
  /** Queue name; defaults to `defaultQueue`. */
  queue?: string;
  exchange?: string;
  routingKey?: string;
  /** Type of the exchange; defaults to the queue's exchange type, else `direct`. */
  exchangeType?: 'direct' | 'topic' | 'fanout' | 'headers';
}

/** Configuration the routing falls back on (`task_default_*` settings). */
export interface RouteDefaults {
  defaultQueue: string;
  /** `task_default_exchange` (defaults to the queue name). */
  defaultExchange?: string;
  /** `task_default_routing_key` (defaults to the queue name). */
  defaultRoutingKey?: string;
  /** Known queues: their exchange, exchange type and routing key (`task_queues`). */
  queues?: Readonly<
    Record<
      string,
      { exchange?: string; exchangeType?: RouteOptions['exchangeType']; routingKey?: string }
    >
  >;
}

/** The resolved destination of one publish. */
export interface TaskRoute {
  /** `''` for AMQP's default exchange (the anonymous-exchange shortcut). */
  exchange: string;
  routingKey: string;
  /** The queue Python declares before publishing (`declare=[queue]`). */
  queue: string;
  exchangeType: NonNullable<RouteOptions['exchangeType']>;
}

/**
 * Resolve a route as `send_task_message` does: with a direct exchange and a missing exchange *or*
 * routing key, publish to the default exchange `''` with the queue name as routing key; otherwise
 * the named exchange with `routing_key or queue.routing_key or task_default_routing_key`.
 */
export function resolveRoute(
  opts: RouteOptions,
  defaults: RouteDefaults = { defaultQueue: 'celery' },
): TaskRoute {
  // `Router.route` merges in `task_default_queue` whenever no queue is given, even with an
  // explicit exchange; the queue is then declared before publishing.
  const queue = opts.queue ?? defaults.defaultQueue;
  const q = defaults.queues?.[queue];
  const exchangeType = opts.exchangeType ?? q?.exchangeType ?? 'direct';
  if ((!opts.exchange || !opts.routingKey) && exchangeType === 'direct') {
    return { exchange: '', routingKey: queue, queue, exchangeType };
  }
  // Python truthiness: an empty name counts as missing.
  const exchange =
    opts.exchange ?? firstNonEmpty(q?.exchange, defaults.defaultExchange ?? defaults.defaultQueue);
  const routingKey = firstNonEmpty(
    opts.routingKey,
    q?.routingKey,
    defaults.defaultRoutingKey ?? defaults.defaultQueue,
  );
  return { exchange, routingKey, queue, exchangeType };
}

function firstNonEmpty(...xs: (string | undefined)[]): string {
  for (const x of xs) if (x !== undefined && x !== '') return x;
  return '';
}
