import type { ConsumeOptions, QueueSpec } from '../brokers/broker';
import type { CeleryConfig } from '../config/config';
import { getProfile } from '../protocol/profiles';
import { workerAppQueues } from './delayed-delivery';

/**
 * `Tasks.qos_global` (`celery/worker/consumer/tasks.py`): `global` unless
 * `worker_detect_quorum_queues` finds a quorum queue among the app's queues (quorum queues
 * refuse global QoS), in which case Celery logs that the prefetch count is now static; on kombu
 * 5.7 also per consumer on RabbitMQ ≥ 4.0 (`qos_semantics_matches_spec`, decided by the broker
 * from the server properties). Returns the consume option and the log line, if any.
 */
export function qosMode(
  config: CeleryConfig,
  consumed: readonly QueueSpec[],
  transport: 'redis' | 'amqp',
): { prefetchGlobal: NonNullable<ConsumeOptions['prefetchGlobal']>; line?: string } {
  const p = getProfile(`celery-${config.celeryLine}`);
  const byVersion = p.perConsumerQosOnRabbit4 === true ? 'by-server-version' : true;
  if (transport !== 'amqp' || p.nativeDelayedDelivery !== true) return { prefetchGlobal: true };
  if (!config.workerDetectQuorumQueues) return { prefetchGlobal: byVersion };
  const quorum = workerAppQueues(config, consumed).some(
    (q) => q.arguments?.['x-queue-type'] === 'quorum',
  );
  if (!quorum) return { prefetchGlobal: byVersion };
  const verb = p.qosStaticLogTypo === true ? 'in' : 'is';
  return {
    prefetchGlobal: false,
    line: `Global QoS is disabled. Prefetch count ${verb} now static.`,
  };
}
