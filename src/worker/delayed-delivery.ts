import type { Broker, QueueSpec } from '../brokers/broker';
import { isTopologyBroker, type TopologyBroker } from '../brokers/topology';
import type { CeleryConfig } from '../config/config';
import { delayBindings, delayTopology, type DelayStep } from '../protocol/native-delayed';
import { getProfile } from '../protocol/profiles';
import { appQueues, type RouteQueue } from '../protocol/queues';
import type { LogLevel } from './worker-env';

type Log = (level: LogLevel, msg: string) => void;

async function run(b: TopologyBroker & Broker, step: DelayStep): Promise<void> {
  switch (step.kind) {
    case 'exchange':
      await b.declareExchange(step.name, step.type, { durable: true, autoDelete: false });
      return;
    case 'queue':
      // kombu `Queue(level, queue_arguments=…)`: default exchange, so no binding here.
      await b.declareQueue({ name: step.name, exchange: '', arguments: step.arguments });
      return;
    case 'bind-queue':
      await b.bindQueue(step.queue, step.exchange, step.routingKey);
      return;
    case 'bind-exchange':
      await b.bindExchange(step.destination, step.source, step.routingKey);
      return;
  }
}

/** `app.amqp.queues` as the worker sees it: the defined queues plus what it consumes (`-Q`). */
export function workerAppQueues(
  config: CeleryConfig,
  consumed: readonly QueueSpec[],
): RouteQueue[] {
  const all = appQueues(config);
  for (const q of consumed) {
    if (all.some((a) => a.name === q.name)) continue;
    all.push({
      name: q.name,
      exchange: q.exchange ?? q.name,
      exchangeType: q.exchangeType === 'headers' ? 'direct' : (q.exchangeType ?? 'direct'),
      routingKey: q.routingKey ?? q.name,
      ...(q.arguments ? { arguments: q.arguments } : {}),
    });
  }
  return all;
}

/**
 * Celery's `DelayedDelivery` consumer bootstep (`celery/worker/consumer/delayed_delivery.py`,
 * 5.5.3 / 5.6.3 / 5.7.0), run after the task consumer started (`requires = (Tasks,)`) when the
 * line has it and one of the app's queues is a quorum queue (`include_if`): declare the 28-level
 * delay topology with `broker_native_delayed_delivery_queue_type`, then bind every app queue to
 * the delivery exchange (`_bind_queues`; 5.6+ skip `Broadcast` queues, which a worker's task
 * queues never are). Failures are logged in Celery's words and the worker goes on, as Celery's.
 * Returns whether the topology is in place.
 */
export async function setupDelayedDelivery(
  broker: Broker,
  config: CeleryConfig,
  consumed: readonly QueueSpec[],
  log: Log,
): Promise<boolean> {
  if (getProfile(`celery-${config.celeryLine}`).nativeDelayedDelivery !== true) return false;
  const queues = workerAppQueues(config, consumed);
  const quorum = queues.find((q) => q.arguments?.['x-queue-type'] === 'quorum');
  if (quorum === undefined || !isTopologyBroker(broker)) return false;
  const url = config.brokerUrl.replace(/:[^:@/]*@/, ':**@');
  try {
    try {
      for (const step of delayTopology(config.brokerNativeDelayedDeliveryQueueType)) {
        await run(broker, step);
      }
    } catch (e) {
      log('warn', `Failed to declare exchanges and queues for '${url}': ${String(e)}`);
      throw e;
    }
    const failures: unknown[] = [];
    for (const q of queues) {
      const b = delayBindings(q);
      if ('warning' in b) {
        log('warn', b.warning);
        continue;
      }
      try {
        for (const step of b.steps) await run(broker, step);
      } catch (e) {
        log('error', `Failed to bind queue '${q.name}': ${String(e)}`);
        failures.push(e);
      }
    }
    if (failures.length > 0) {
      const msg =
        'One or more failures occurred while binding queues to delayed delivery exchanges';
      log(
        'warn',
        `Failed to bind queues for '${url}': ${msg} (${String(failures.length)} sub-exception)`,
      );
      throw new AggregateError(failures, msg);
    }
    return true;
  } catch (e) {
    log('warn', `Failed to setup delayed delivery for '${url}': ${String(e)}`);
    log(
      'error',
      'Failed to setup delayed delivery for all broker URLs. Native delayed delivery will not be available.',
    );
    return false;
  }
}
