import type { Broker } from '../brokers/broker';
import { isFanoutBroker } from '../brokers/fanout';
import type { CeleryConfig } from '../config/config';
import { LamportClock } from '../events/clock';
import { EventDispatcher } from '../events/dispatcher';
import type { PyValue } from '../serialization/py-values';
import { profileOf } from './factories';
import { transportOf } from '../client/native-delay';

/**
 * `task_send_sent_event` for a producer: `send_task_message` publishes `task-sent` through the
 * app's default event dispatcher (`celery/app/amqp.py`; hostname `anon_nodename()`, the app's
 * clock), on the `celeryev` exchange, each event on its own. Best-effort as Celery's: an event
 * that cannot be published is reported on stderr and the send still succeeds. Transports without
 * an exchange to publish on (SQS) send none, as kombu's SQS has no fanout for events.
 */
export function sentEventPublisher(
  config: CeleryConfig,
  broker: () => Promise<Broker>,
  hostname: string,
): (fields: Record<string, PyValue>) => Promise<void> {
  let dispatcher: EventDispatcher | null | undefined;
  const clock = new LamportClock();
  return async (fields) => {
    if (dispatcher === undefined) {
      const b = await broker();
      const transport = transportOf(config.brokerUrl) === 'amqp' ? 'amqp' : 'redis';
      dispatcher = isFanoutBroker(b)
        ? new EventDispatcher({
            broker: b,
            hostname,
            pid: process.pid,
            clock,
            now: Date.now,
            transport,
            exchange: config.eventExchange,
            profile: profileOf(config.celeryLine),
            jsonDialect: config.jsonDialect,
            enabled: true,
            onError: (e) => {
              console.warn(`task-sent event not sent: ${e.message}`);
            },
          })
        : null;
    }
    await dispatcher?.send('task-sent', fields);
  };
}
