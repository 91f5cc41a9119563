// Celery's `task_routes` setting, typed. It lives with the configuration (the bottom layer) so that
// configuration imports nothing above it; the router (src/client/router.ts) interprets it.
// Router functions see Python values (`PyValue` in celery-wire's value model), typed `unknown` here.

/** A route value as in Celery's `task_routes`: a queue name or a dict of routing options. */
export type RouteSpec =
  | string
  | {
      queue?: string;
      exchange?: string;
      exchangeType?: 'direct' | 'topic' | 'fanout';
      routingKey?: string;
      priority?: number;
    };

/** A router function (`router(name, args, kwargs, options, task=…)` in Celery). */
export type RouterFunction = (
  name: string,
  args: readonly unknown[],
  kwargs: Readonly<Record<string, unknown>>,
) => RouteSpec | null | undefined;

/** Celery's `task_routes`: exact names or glob patterns → route; or router functions. */
export type TaskRoutes =
  | Readonly<Record<string, RouteSpec>>
  | readonly (Readonly<Record<string, RouteSpec>> | RouterFunction)[];

/** A queue argument value as RabbitMQ takes it (`x-max-priority: 10`, `x-queue-type: 'quorum'`). */
export type QueueArgument = string | number | boolean | bigint;

/**
 * One entry of Celery's `task_queues`: kombu `Queue(name, Exchange(exchange, type),
 * routing_key, queue_arguments=…)`. `queueArguments` are sent exactly as given (`x-queue-type`,
 * `x-max-priority`, `x-dead-letter-exchange`, `x-dead-letter-routing-key`, `x-message-ttl`,
 * `x-expires`, `x-overflow`, …; integer milliseconds as kombu sends them).
 */
export interface QueueDefinition {
  name: string;
  /** Exchange name; default `task_default_exchange`, else the queue name (kombu/Celery `Queues`). */
  exchange?: string;
  /** Exchange type; default `direct` (kombu `Exchange.type`). */
  exchangeType?: 'direct' | 'topic' | 'fanout';
  /** Binding key; default `task_default_routing_key`, else the queue name. */
  routingKey?: string;
  queueArguments?: Readonly<Record<string, QueueArgument>>;
}
