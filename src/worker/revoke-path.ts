import { canvasRequestOf, chordPartReturn, workerCanvasHost } from '../canvas/index';
import { prepareException } from '../protocol/exception';
import { pyRepr } from '../protocol/repr';
import { REVOKED } from '../protocol/states';
import type { PyValue } from '../serialization/py-values';
import { ackRequest } from './ack-policy';
import { TaskRevokedError, exceptionInfoOf } from './exceptions';
import type { WorkerRequest } from './request';
import type { WorkerEnv } from './worker-env';

/** `Request.revoked()`: expired or revoked → task-revoked, REVOKED stored, ack. */
export async function maybeRevoked(env: WorkerEnv, req: WorkerRequest): Promise<boolean> {
  const { revoked } = env.state;
  const now = env.now();
  const expired = req.expires !== null && now > req.expires;
  if (expired) revoked.add(req.id, now);
  const by = expired ? true : env.state.revokedBy(req.id, req.decoded.headers);
  if (by === false) return false;
  const reason = expired ? 'expired' : 'revoked';
  // `Request.revoked`: `… (revoked by header: {stamp: value})` for a stamp match.
  const header = by === true ? '' : ` (revoked by header: ${pyRepr(by)})`;
  env.log('info', `Discarding ${reason} task: ${req.name}[${req.id}]${header}`);
  await announceRevoked(env, req, reason, false, null, expired);
  return true;
}

/** `Request._announce_revoked`: event, REVOKED stored, chord part returned, ack. */
export async function announceRevoked(
  env: WorkerEnv,
  req: WorkerRequest,
  reason: string,
  terminated: boolean,
  signum: PyValue,
  expired: boolean,
): Promise<void> {
  env.state.counters.revoked++;
  env.sendEvent('task-revoked', { uuid: req.id, terminated, signum, expired }, req);
  const backend = env.backend;
  if (req.storeErrors && backend) {
    const info = exceptionInfoOf(new TaskRevokedError(reason));
    await backend
      .storeResult(req.id, prepareException(info), REVOKED, {
        traceback: null,
        request: req.storeRequest(),
      })
      .catch((e: unknown) => {
        env.log('error', `storing REVOKED for ${req.id}: ${String(e)}`);
      });
  }
  // `mark_as_revoked`: a revoked chord header member still returns its part (REVOKED), so
  // the chord fails with ChordError instead of hanging.
  if (backend && req.decoded.embed.chord !== null) {
    const host = workerCanvasHost({
      config: env.config,
      oid: '',
      publish: (input, target) => env.publish(input, target),
      backend,
    });
    const exc = prepareException(exceptionInfoOf(new TaskRevokedError(reason)));
    await chordPartReturn(canvasRequestOf(req.decoded), REVOKED, exc, { ...host, backend }).catch(
      (e: unknown) => {
        env.log('error', `chord part return of revoked ${req.id}: ${String(e)}`);
      },
    );
  }
  await ackRequest(env, req);
}
