import type { ApplyOptions } from '../client/apply-options';
import type { PyValue } from '../serialization/py-values';

/**
 * A beat entry's `options` are `apply_async` keyword arguments in Celery's snake_case (what a
 * Python `beat_schedule` and RedBeat store); these are the camelCase send options celery-wire's
 * client takes for them. Unknown keys become message properties, as Celery's `**options` do.
 */
const NAMES: Readonly<Record<string, keyof ApplyOptions>> = {
  queue: 'queue',
  exchange: 'exchange',
  exchange_type: 'exchangeType',
  routing_key: 'routingKey',
  priority: 'priority',
  expires: 'expires',
  countdown: 'countdown',
  eta: 'eta',
  headers: 'headers',
  serializer: 'serializer',
  compression: 'compression',
  time_limit: 'timeLimit',
  soft_time_limit: 'softTimeLimit',
  ignore_result: 'ignoreResult',
  shadow: 'shadow',
  task_id: 'taskId',
  delivery_mode: 'deliveryMode',
};

export function entryApplyOptions(options: Readonly<Record<string, PyValue>>): ApplyOptions {
  const out: Record<string, unknown> = {};
  const properties: Record<string, PyValue> = {};
  for (const [k, v] of Object.entries(options)) {
    const name = NAMES[k];
    if (name) out[name] = v;
    else properties[k] = v;
  }
  if (Object.keys(properties).length > 0) out.properties = properties;
  // Values are whatever the schedule holds; the client validates them when it sends.
  const result: ApplyOptions = out;
  return result;
}
