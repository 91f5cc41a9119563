import type { Delivery } from '../brokers/broker';
import { isVoid } from './delivery';
import type { WorkerRequest } from './request';
import type { TraceOutcome } from './tracer';
import type { WorkerEnv } from './worker-env';

/** How a finished run settles its message. */
export type Settlement = { how: 'ack' } | { how: 'reject'; requeue: boolean } | { how: 'none' };

/**
 * When Celery acknowledges (`celery/worker/request.py`): early (`on_accepted`) unless
 * `acks_late`; otherwise after the run. Under `acks_late` a failure is acked when
 * `acks_on_failure` (else rejected without requeue) and a hard time limit when `acks_on_timeout`
 * (else requeued: `Request.on_timeout` / `on_failure`, 5.7; both default to
 * `task_acks_on_failure_or_timeout`, True). Before 5.7 a hard time limit with the flag off stays
 * unacked until the connection closes; we requeue it as 5.7 does. Retries are acked (the retry
 * is a new message), `Reject` rejects with its `requeue`, a cold-shutdown abandon settles nothing
 * so the broker gives the message back, as after a crash.
 */
export function settlementFor(
  outcome: TraceOutcome,
  req: Pick<WorkerRequest, 'acksLate' | 'acksOnFailure' | 'acksOnTimeout'>,
): Settlement {
  switch (outcome.kind) {
    case 'reject':
      return { how: 'reject', requeue: outcome.requeue };
    case 'abandoned':
      return { how: 'none' };
    case 'failure':
      if (req.acksLate && outcome.timeout && !req.acksOnTimeout) {
        return { how: 'reject', requeue: true };
      }
      if (req.acksLate && !outcome.timeout && !req.acksOnFailure) {
        return { how: 'reject', requeue: false };
      }
      return { how: 'ack' };
    case 'success':
    case 'retry':
    case 'ignore':
    case 'terminated':
      return { how: 'ack' };
  }
}

/** Whether the message is acked before the task runs (`Request.on_accepted`). */
export function acksEarly(req: WorkerRequest): boolean {
  return !req.acksLate;
}

/**
 * Ack or reject one delivery; failures are logged, never thrown. A void delivery (the broker
 * took it back on a consumer reset, so a redelivered copy exists) is not settled at all: its
 * ack would be a no-op, and logging it as a failure would be noise.
 */
export async function settle(
  env: Pick<WorkerEnv, 'log'>,
  d: Delivery,
  how: 'ack' | 'reject',
  requeue = false,
): Promise<void> {
  if (isVoid(d)) {
    env.log(
      'debug',
      `${how} skipped: delivery ${String(d.deliveryTag)} on ${d.queue} went back to the broker`,
    );
    return;
  }
  try {
    if (how === 'ack') await d.ack();
    else await d.reject(requeue);
  } catch (e) {
    env.log('error', `${how} failed: ${String(e)}`);
  }
}

/** `Request.acknowledge`: once per request. */
export async function ackRequest(env: Pick<WorkerEnv, 'log'>, req: WorkerRequest): Promise<void> {
  if (req.acknowledged) return;
  req.acknowledged = true;
  await settle(env, req.delivery, 'ack');
}

/** `Request.reject`: no-op when already acked; emits `task-rejected`. */
export async function rejectRequest(
  env: WorkerEnv,
  req: WorkerRequest,
  requeue: boolean,
): Promise<void> {
  if (req.acknowledged) return;
  req.acknowledged = true;
  env.state.counters.rejected++;
  env.sendEvent('task-rejected', { uuid: req.id, requeue }, req);
  await settle(env, req.delivery, 'reject', requeue);
}

/** Apply a {@link Settlement}. */
export async function applySettlement(
  env: WorkerEnv,
  req: WorkerRequest,
  s: Settlement,
): Promise<void> {
  if (s.how === 'ack') await ackRequest(env, req);
  else if (s.how === 'reject') await rejectRequest(env, req, s.requeue);
}
