import type { Broker, PublishTarget } from '../brokers/broker';
import type { CeleryConfig } from '../config/config';
import type { LamportClock } from '../events/clock';
import { EventDispatcher } from '../events/dispatcher';
import { getProfile, type CeleryProfileName } from '../protocol/profiles';
import type { EncodeEnv, TaskInput } from '../protocol/task-input';
import { taskSentFields } from '../protocol/task-sent';
import { anonNodename } from '../util/hostname';
import type { LogLevel } from './worker-env';

/**
 * `task_send_sent_event` for what the worker itself publishes (retries, callbacks, chain steps,
 * replacements): Celery sends them with `send_task`, whose `send_task_message` publishes a
 * `task-sent` event through the app's default dispatcher — hostname `anon_nodename()` of the
 * worker process, the app's clock, each event on its own, whether or not `-E` is on.
 */
export class WorkerSentEvents {
  private readonly dispatcher: EventDispatcher | null;

  constructor(o: {
    broker: Broker;
    clock: LamportClock;
    config: CeleryConfig;
    transport: 'redis' | 'amqp';
    now: () => number;
    log: (level: LogLevel, msg: string) => void;
  }) {
    const profile: CeleryProfileName = `celery-${o.config.celeryLine}`;
    this.dispatcher = o.config.taskSendSentEvent
      ? new EventDispatcher({
          broker: o.broker,
          hostname: anonNodename(),
          pid: process.pid,
          clock: o.clock,
          now: o.now,
          transport: o.transport,
          exchange: o.config.eventExchange,
          profile: getProfile(profile),
          jsonDialect: o.config.jsonDialect,
          enabled: true,
          onError: (e) => {
            o.log('warn', `task-sent event not sent: ${e.message}`);
          },
        })
      : null;
  }

  /** After `input` was published to `target`. */
  async sent(input: TaskInput, env: EncodeEnv, target: PublishTarget): Promise<void> {
    if (!this.dispatcher) return;
    const queue = target.queue?.name ?? (target.exchange === '' ? target.routingKey : null);
    await this.dispatcher.send(
      'task-sent',
      taskSentFields(input, env, {
        queue,
        exchange: target.exchange,
        routingKey: target.routingKey,
      }),
    );
  }
}
