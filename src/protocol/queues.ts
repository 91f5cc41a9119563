/**
 * The app's queue table, Celery's `app.amqp.queues` (`celery/app/amqp.py`, `AMQP.Queues`,
 * `Queues.add`, `Queues.new_missing`): `task_queues` entries with their defaults filled in, or
 * the default queue (typed by `task_default_queue_type`), `x-max-priority` added from
 * `task_queue_max_priority`. Client, worker and the delayed-delivery step all read it, so a
 * queue is declared with the same arguments whoever declares it first.
 */
import type { QueueDefinition } from '../config/routes';
import type { PyValue } from '../serialization/py-values';

/** The queue to declare, in the broker's `QueueSpec` shape (structurally). */
export interface RouteQueue {
  name: string;
  exchange: string;
  exchangeType: 'direct' | 'topic' | 'fanout';
  routingKey: string;
  arguments?: Record<string, PyValue>;
}

/** The settings the queue table reads (a subset of the app configuration). */
export interface QueueSettings {
  taskDefaultQueue: string;
  taskDefaultExchange: string | null;
  taskDefaultExchangeType: 'direct' | 'topic' | 'fanout';
  taskDefaultRoutingKey: string | null;
  taskQueueMaxPriority: number | null;
  /** `task_queues` (absent or `null`: the default queue only). */
  taskQueues?: readonly QueueDefinition[] | null;
  /** `task_default_queue_type` (absent: `classic`). */
  taskDefaultQueueType?: 'classic' | 'quorum';
  /** `task_create_missing_queue_type` (absent: `classic`). */
  taskCreateMissingQueueType?: 'classic' | 'quorum';
}

/** `Queues._set_max_priority`: only when the queue has none of its own. */
function withMaxPriority(q: RouteQueue, s: QueueSettings): RouteQueue {
  if (s.taskQueueMaxPriority === null) return q;
  const args = q.arguments ?? {};
  if (args['x-max-priority'] !== undefined) return q;
  return { ...q, arguments: { ...args, 'x-max-priority': s.taskQueueMaxPriority } };
}

/** A `task_queues` entry as `Queues.add` completes it (default exchange and routing key). */
function fromDefinition(d: QueueDefinition, s: QueueSettings): RouteQueue {
  const q: RouteQueue = {
    name: d.name,
    exchange: d.exchange ?? s.taskDefaultExchange ?? s.taskDefaultQueue,
    exchangeType:
      d.exchangeType ?? (d.exchange === undefined ? s.taskDefaultExchangeType : 'direct'),
    routingKey: d.routingKey ?? s.taskDefaultRoutingKey ?? s.taskDefaultQueue,
  };
  if (d.queueArguments !== undefined) q.arguments = { ...d.queueArguments };
  return withMaxPriority(q, s);
}

/** `AMQP.Queues` without `task_queues`: the default queue, `x-queue-type` per its type. */
function defaultQueue(s: QueueSettings): RouteQueue {
  const name = s.taskDefaultQueue;
  const q: RouteQueue = {
    name,
    exchange: s.taskDefaultExchange ?? name,
    exchangeType: s.taskDefaultExchangeType,
    routingKey: s.taskDefaultRoutingKey ?? name,
  };
  if (s.taskDefaultQueueType === 'quorum') q.arguments = { 'x-queue-type': 'quorum' };
  return withMaxPriority(q, s);
}

/** `app.amqp.queues.values()`: the defined queues in definition order. */
export function appQueues(s: QueueSettings): RouteQueue[] {
  const defs = s.taskQueues;
  if (defs && defs.length > 0) return defs.map((d) => fromDefinition(d, s));
  return s.taskDefaultQueue === '' ? [] : [defaultQueue(s)];
}

/**
 * `app.amqp.queues[name]`: a defined queue, else the one `Queues.new_missing` creates
 * (`Queue(name, Exchange(name), name)`, direct; `x-queue-type` from
 * `task_create_missing_queue_type`, Celery ≥ 5.6).
 */
export function lookupQueue(name: string, s: QueueSettings): RouteQueue {
  const found = appQueues(s).find((q) => q.name === name);
  if (found) return found;
  const q: RouteQueue = { name, exchange: name, exchangeType: 'direct', routingKey: name };
  if (s.taskCreateMissingQueueType === 'quorum') q.arguments = { 'x-queue-type': 'quorum' };
  return withMaxPriority(q, s);
}

/**
 * `celery/utils/quorum_queues.py`, `detect_quorum_queues`: on AMQP, the first queue of the app
 * whose `x-queue-type` is `quorum` (its name), else `undefined`.
 */
export function detectQuorumQueue(s: QueueSettings, transport: string): string | undefined {
  if (transport !== 'amqp') return undefined;
  return appQueues(s).find((q) => q.arguments?.['x-queue-type'] === 'quorum')?.name;
}
