import type { PublishTarget } from '../brokers/broker';
import { calculateRoutingKey, levelName, MAX_LEVEL } from '../protocol/native-delayed';
import { getProfile, type CeleryProfileName } from '../protocol/profiles';
import { detectQuorumQueue, type QueueSettings } from '../protocol/queues';
import type { ResolvedRoute } from '../protocol/route';
import { secondsUntil, toEpochMicros, type Instant } from '../protocol/time';

/** What {@link nativeDelayTarget} decided for one countdown/eta publish. */
export type NativeDelayDecision =
  { kind: 'none' } | { kind: 'delay'; target: PublishTarget } | { kind: 'warn'; warning: string };

/** The transport of a broker URL as kombu names it (`driver_type`). */
export function transportOf(brokerUrl: string | undefined): string {
  const scheme = (brokerUrl ?? '').split(':', 1)[0] ?? '';
  return scheme === 'amqp' || scheme === 'amqps' || scheme === 'pyamqp' ? 'amqp' : scheme;
}

/**
 * `Celery.send_task`'s native delayed delivery branch (`celery/app/base.py`, 5.5.3 / 5.6.3 /
 * 5.7.0): with `eta` or `countdown` on a line that has it, on AMQP, when any of the app's queues
 * is a quorum queue (`detect_quorum_queues`), a target queue on a non-direct exchange is
 * published to `celery_delayed_27` with `calculate_routing_key(int(countdown), queue.routing_key)`
 * (an `eta` wins: `countdown = eta - now`) and no queue declaration (`options.pop('queue')`); a
 * direct exchange logs Celery's warning and keeps the plain `eta` header path. The queue's own
 * routing key is used even when the call named another, as in Celery.
 */
export function nativeDelayTarget(
  route: ResolvedRoute,
  timing: { countdown?: number | undefined; eta?: Instant | string | undefined },
  s: QueueSettings & { brokerUrl?: string },
  profile: CeleryProfileName,
  now: Instant,
): NativeDelayDecision {
  const p = getProfile(profile);
  if (p.nativeDelayedDelivery !== true) return { kind: 'none' };
  const { eta } = timing;
  let countdown = timing.countdown;
  if (!eta && !countdown) return { kind: 'none' };
  const q = route.queue;
  // Routing put the target in `app.amqp.queues` (`Queues.__missing__`) before the check runs.
  const amqp = transportOf(s.brokerUrl) === 'amqp';
  const quorum =
    detectQuorumQueue(s, transportOf(s.brokerUrl)) !== undefined ||
    (amqp && q.arguments?.['x-queue-type'] === 'quorum');
  if (!quorum) return { kind: 'none' };
  if (q.exchangeType === 'direct') {
    return {
      kind: 'warn',
      warning:
        'Direct exchanges are not supported with native delayed delivery.\n' +
        `${q.exchange} is a direct exchange but should be a topic exchange or ` +
        'a fanout exchange in order for native delayed delivery to work properly.\n' +
        'If quorum queues are used, this task may block the worker process until the ETA arrives.',
    };
  }
  if (eta) {
    countdown =
      typeof eta === 'string'
        ? secondsUntil(eta, now)
        : (toEpochMicros(eta) - toEpochMicros(now)) / 1e6;
  }
  if (!countdown || countdown <= 0) return { kind: 'none' };
  const routingKey = calculateRoutingKey(
    Math.trunc(countdown),
    q.routingKey,
    p.stripDelayPrefix === true,
  );
  return { kind: 'delay', target: { exchange: levelName(MAX_LEVEL), routingKey } };
}
