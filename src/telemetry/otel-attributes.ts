import type { PublishTarget } from '../brokers/broker';
import { pyRepr } from '../protocol/repr';
import type { PyValue } from '../serialization/py-values';
import type { WorkerRequest } from '../worker/request';

type Attributes = Record<string, string | number>;

/**
 * The attributes opentelemetry-instrumentation-celery puts on the `apply_async/<task>` span
 * (`__init__.py`, `_trace_before_publish`, then `utils.py`, `set_attributes_from_context` over
 * the signal's `exchange`, `routing_key`, `declare`; empty values are skipped).
 */
export function publishAttributes(task: string, id: string, target: PublishTarget): Attributes {
  const a: Attributes = {
    'celery.action': 'apply_async',
    'messaging.message.id': id,
    'celery.task_name': task,
  };
  if (target.exchange) a['celery.exchange'] = target.exchange;
  if (target.routingKey) a['messaging.destination'] = target.routingKey;
  const kind = target.queue?.exchangeType;
  if (kind === 'direct') a['messaging.destination_kind'] = 'queue';
  else if (kind === 'topic') a['messaging.destination_kind'] = 'topic';
  return a;
}

/**
 * The attributes of the `run/<task>` span, set at `task_postrun` from the request context
 * (`utils.py`, `CELERY_CONTEXT_ATTRIBUTES`): `origin` is written as `celery.hostname` after
 * `hostname`, so the producer's origin wins when the message has one, as in Python.
 */
export function runAttributes(req: WorkerRequest, state: string): Attributes {
  const h = req.decoded.headers;
  const p = req.decoded.properties;
  const a: Attributes = { 'celery.action': 'run', 'celery.state': state };
  a['messaging.message.id'] = req.id;
  if (typeof p.correlation_id === 'string' && p.correlation_id)
    a['messaging.conversation_id'] = p.correlation_id;
  const rk = req.delivery.deliveryInfo.routing_key;
  if (rk) a['messaging.destination'] = rk;
  a['celery.hostname'] = typeof h.origin === 'string' && h.origin ? h.origin : req.hostname;
  if (typeof p.reply_to === 'string' && p.reply_to) a['celery.reply_to'] = p.reply_to;
  if (typeof p.priority === 'number') a['celery.priority'] = p.priority;
  const retries = h.retries;
  if (typeof retries === 'number' && retries !== 0) a['celery.retries'] = retries;
  if (typeof h.eta === 'string' && h.eta) a['celery.eta'] = h.eta;
  if (typeof h.expires === 'string' && h.expires) a['celery.expires'] = h.expires;
  a['celery.task_name'] = req.name;
  return a;
}

/** Python's `str(exc)` from `exc.args` (the span status description of a failure). */
export function pyExcStr(args: readonly PyValue[]): string {
  if (args.length === 0) return '';
  const [only] = args;
  if (args.length === 1) return typeof only === 'string' ? only : pyRepr(only ?? null);
  return `(${args.map((x) => pyRepr(x)).join(', ')})`;
}
