import { afterFailure, callErrbacks, canvasRequestOf, workerCanvasHost } from '../../canvas/index';
import { prepareException } from '../../protocol/exception';
import { pyRepr } from '../../protocol/repr';
import { FAILURE } from '../../protocol/states';
import { ackRequest, rejectRequest } from '../ack-policy';
import { exceptionInfoOf } from '../exceptions';
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
  if (req.acksLate && req.rejectOnWorkerLost) {
    await rejectRequest(env, req, true);
    env.log('error', `Task handler raised error: ${repr}`);
    return;
  }
  await ackRequest(env, req);
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
