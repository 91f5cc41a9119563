import { afterFailure, callErrbacks, canvasRequestOf, workerCanvasHost } from '../../canvas/index';
import { prepareException } from '../../protocol/exception';
import { pyRepr } from '../../protocol/repr';
import { FAILURE, RETRY } from '../../protocol/states';
import { ackRequest, rejectRequest } from '../ack-policy';
import { MaxRetriesExceededError, exceptionInfoOf } from '../exceptions';
import { planRetry } from '../retry';
import type { WorkerRequest } from '../request';
import { formatTraceback } from '../traceback';
import type { WorkerEnv } from '../worker-env';
import type { WorkerLostError } from './worker-lost';

/**
 * `celery/worker/request.py`, `Request.on_failure` for a `WorkerLostError` (the pool child
 * running the task died): with `acks_late`, `reject_on_worker_lost` requeues the message and
 * nothing is stored or sent; otherwise the message is acked (`acks_on_failure_or_timeout`,
 * Celery's default) and FAILURE stored (errbacks and chord included, as `mark_as_failure`),
 * `task-failed` sent and `Task handler raised error: WorkerLostError(…)` logged.
 */
export async function onWorkerLost(
  env: WorkerEnv,
  req: WorkerRequest,
  exc: WorkerLostError,
): Promise<void> {
  const info = exceptionInfoOf(exc);
  const repr = `${info.excType}(${info.args.map((a) => pyRepr(a)).join(', ')})`;
  const retried = req.retryOnWorkerLost ? await retryWorkerLost(env, req, exc, repr) : 'no';
  if (retried === 'done') return;
  const maxRetriesExceeded = retried === 'exceeded';
  if (req.acksLate && req.rejectOnWorkerLost && !maxRetriesExceeded) {
    await rejectRequest(env, req, true);
    env.log('error', `Task handler raised error: ${repr}`);
    return;
  }
  // `acks_on_failure` off: the message is rejected unrequeued; FAILURE is still stored below.
  if (req.acksLate && !req.acksOnFailure) await rejectRequest(env, req, false);
  else await ackRequest(env, req);
  env.state.counters.failed++;
  const tb = formatTraceback(exc, info);
  const backend = env.backend;
  if (backend) {
    try {
      const host = workerCanvasHost({
        config: env.config,
        oid: '',
        publish: (input, target) => env.publish(input, target),
        backend,
      });
      if (req.storeErrors) {
        await backend.storeResult(req.id, prepareException(info), FAILURE, {
          traceback: tb,
          request: req.storeRequest(),
        });
      }
      await afterFailure(
        canvasRequestOf(req.decoded),
        prepareException(info),
        tb,
        { ...host, backend },
        FAILURE,
        req.storeErrors,
      );
    } catch (e) {
      env.log('error', `storing the failure of ${req.id} failed: ${String(e)}`);
    }
  } else {
    const creq = canvasRequestOf(req.decoded);
    const host = workerCanvasHost({
      config: env.config,
      oid: '',
      publish: (input, target) => env.publish(input, target),
      backend,
    });
    if (creq.errbacks?.length) await callErrbacks(creq.id, creq.rootId, creq.errbacks, host);
  }
  env.sendEvent('task-failed', { uuid: req.id, exception: repr, traceback: tb }, req);
  env.log('error', `Task handler raised error: ${repr}`);
}

/**
 * `Request._retry_worker_lost` (Celery 5.7, `task_retry_on_worker_lost`): the task is sent
 * again as `signature_from_request(countdown=default_retry_delay, retries+1)`, RETRY stored,
 * the message acked and `task-retried` sent. `exceeded` when no retries are left (the failure
 * path then runs without requeueing); `no` when the retry could not be published.
 */
async function retryWorkerLost(
  env: WorkerEnv,
  req: WorkerRequest,
  exc: WorkerLostError,
  repr: string,
): Promise<'done' | 'exceeded' | 'no'> {
  const info = exceptionInfoOf(exc);
  let plan: ReturnType<typeof planRetry>;
  try {
    plan = planRetry(req, {}, env.config);
  } catch (e) {
    if (e instanceof MaxRetriesExceededError) return 'exceeded';
    throw e;
  }
  try {
    await env.publish(plan.input, plan.target);
  } catch (e) {
    env.log(
      'error',
      `Failed to retry task ${req.name}[${req.id}] after worker was lost: ${String(e)}`,
    );
    return 'no';
  }
  const tb = formatTraceback(exc, info);
  if (req.storeErrors && env.backend) {
    try {
      await env.backend.storeResult(req.id, prepareException(info), RETRY, {
        traceback: tb,
        request: req.storeRequest(),
      });
    } catch (e) {
      env.log('error', `storing the retry of ${req.id} failed: ${String(e)}`);
    }
  }
  if (req.acksLate) await ackRequest(env, req);
  env.sendEvent('task-retried', { uuid: req.id, exception: repr, traceback: tb }, req);
  env.log('info', `Task ${req.name}[${req.id}] retry: Retry in ${String(plan.when)}s`);
  return 'done';
}
