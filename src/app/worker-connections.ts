import type { ResultBackend } from '../backends/backend';
import { parseBackendUrl } from '../backends/url';
import type { Broker } from '../brokers/broker';
import { parseBrokerUrl } from '../brokers/url';
import type { CeleryConfig } from '../config/config';
import { createBackend, createBroker } from './factories';

/**
 * A worker's own broker connection and result backend for a resolved config (the worker side of
 * Celery's `app.connection()` / `app.backend`). A worker without a result backend stores nothing
 * (Celery's DisabledBackend is a no-op there), so `backend` is `null` for `disabled`.
 */
export function workerConnections(
  config: CeleryConfig,
  visibilityTimeout?: number,
): { broker: Broker; backend: ResultBackend | null; transport: 'redis' | 'amqp' } {
  const effective = visibilityTimeout === undefined ? config : { ...config, visibilityTimeout };
  const broker = createBroker(effective, 'worker');
  const backend =
    parseBackendUrl(config.resultBackend).kind === 'disabled'
      ? null
      : createBackend(effective, broker);
  const transport = parseBrokerUrl(config.brokerUrl).transport === 'redis' ? 'redis' : 'amqp';
  return { broker, backend, transport };
}
