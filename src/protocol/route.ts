/**
 * Where a task message is published: `celery/app/routes.py` (`Router.route`, `MapRoute`) and
 * `celery/app/amqp.py` (`AMQP._create_task_sender.send_task_message`). Kept apart from
 * the message because routing is the broker's business, not the message's. The client,
 * the canvas and the worker's own publishes all route through {@link routeTask}; the task
 * fixtures check it against where Celery published each case.
 */
import type { RouteSpec, RouterFunction, TaskRoutes } from '../config/routes';
import { CeleryError } from '../errors/errors';
import type { PyValue } from '../serialization/py-values';
import { lookupQueue, type QueueSettings, type RouteQueue } from './queues';

export type { RouteSpec, RouterFunction, TaskRoutes };

export type { RouteQueue };

/** The settings routing reads (a subset of the app configuration). */
export interface RoutingSettings extends QueueSettings {
  taskRoutes: TaskRoutes | null;
}

/** Explicit routing options of one call (win over routes, as `lpmerge(route, options)`). */
export interface ExplicitRoute {
  queue?: string | undefined;
  exchange?: string | undefined;
  routingKey?: string | undefined;
  exchangeType?: 'direct' | 'topic' | 'fanout' | 'headers' | undefined;
  priority?: number | undefined;
}

/** Where one task message goes, and the queue to declare first. */
export interface ResolvedRoute {
  exchange: string;
  routingKey: string;
  /** The queue kombu declares before publishing (`declare=[queue]`); a broker `QueueSpec`. */
  queue: RouteQueue;
  /** A route's priority, when the call gave none. */
  priority: number | undefined;
}

/**
 * `fnmatch.translate` for keys containing `*` (`celery/app/routes.py`, `MapRoute.__init__`): the
 * whole name must match; `*` any run, `?` one char, `[…]` a class.
 */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob.charAt(i);
    if (c === '*') re += '[\\s\\S]*';
    else if (c === '?') re += '[\\s\\S]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let body = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * `MapRoute.__call__`: exact names first, then patterns in insertion order; a string value is a
 * queue name.
 */
function mapRoute(map: Readonly<Record<string, RouteSpec>>, name: string): RouteSpec | undefined {
  if (Object.prototype.hasOwnProperty.call(map, name)) return map[name];
  for (const [key, route] of Object.entries(map)) {
    if (key.includes('*') && globToRegExp(key).test(name)) return route;
  }
  return undefined;
}

/** `Router.lookup_route`: the first router returning a route wins. */
export function lookupRoute(
  routes: TaskRoutes | null,
  name: string,
  args: readonly PyValue[],
  kwargs: Readonly<Record<string, PyValue>>,
): RouteSpec | undefined {
  if (routes === null) return undefined;
  const list = Array.isArray(routes)
    ? (routes as readonly (Readonly<Record<string, RouteSpec>> | RouterFunction)[])
    : [routes as Readonly<Record<string, RouteSpec>>];
  for (const r of list) {
    const route = typeof r === 'function' ? r(name, args, kwargs) : mapRoute(r, name);
    if (route !== undefined && route !== null) return route;
  }
  return undefined;
}

/**
 * `app.amqp.queues[name]` (see `./queues`): a `task_queues` entry or the default queue with its
 * exchange, routing key and arguments (`x-queue-type` from `task_default_queue_type`,
 * `x-max-priority` from `task_queue_max_priority`), else the queue Celery creates for an
 * unknown name (`Queues.new_missing`: `Queue(name, Exchange(name), name)`).
 */
export function queueSpec(name: string, s: RoutingSettings): RouteQueue {
  return lookupQueue(name, s);
}

/**
 * `Router.route` then `send_task_message`'s destination logic (`celery/app/routes.py`,
 * `Router.route`; `celery/app/amqp.py`, `send_task_message`): the route's options are merged under
 * the explicit ones (`lpmerge`: only non-None explicit values override), the default queue fills
 * in when no queue is known, and a direct exchange without exchange *or* routing key becomes the
 * anonymous exchange `''` with the queue name as routing key.
 */
export function routeTask(
  name: string,
  args: readonly PyValue[],
  kwargs: Readonly<Record<string, PyValue>>,
  explicit: ExplicitRoute,
  s: RoutingSettings,
): ResolvedRoute {
  const found = lookupRoute(s.taskRoutes, name, args, kwargs);
  const route: Exclude<RouteSpec, string> =
    typeof found === 'string' ? { queue: found } : { ...(found ?? {}) };
  const pick = <K extends keyof ExplicitRoute>(k: K): ExplicitRoute[K] =>
    explicit[k] ?? (route as ExplicitRoute)[k];
  const qname = pick('queue') ?? s.taskDefaultQueue;
  if (qname === '') throw new CeleryError('E_CONFIG', 'empty queue name');
  const queue = queueSpec(qname, s);
  let exchange = pick('exchange');
  let routingKey = pick('routingKey');
  const exchangeType = pick('exchangeType') ?? queue.exchangeType;
  if ((!exchange || !routingKey) && exchangeType === 'direct') {
    exchange = '';
    routingKey = qname;
  } else if (exchange === undefined) {
    // Python `or`: empty strings fall through too, hence `||`.
    /* eslint-disable @typescript-eslint/prefer-nullish-coalescing */
    exchange = queue.exchange || (s.taskDefaultExchange ?? s.taskDefaultQueue);
    routingKey ||= queue.routingKey || (s.taskDefaultRoutingKey ?? s.taskDefaultQueue);
    /* eslint-enable @typescript-eslint/prefer-nullish-coalescing */
  }
  // kombu publishes a missing routing key as '' (`Producer.publish`, `routing_key or ''`).
  return { exchange, routingKey: routingKey ?? '', queue, priority: pick('priority') };
}
