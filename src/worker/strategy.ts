import type { Delivery } from '../brokers/broker';
import { prepareException } from '../protocol/exception';
import { FAILURE } from '../protocol/states';
import { settle } from './ack-policy';
import { NotRegistered, exceptionInfoOf } from './exceptions';
import type { Pool } from './pool';
import { classify } from './receive';
import { WorkerRequest } from './request';
import { maybeRevoked } from './revoke-path';
import type { WorkerEnv } from './worker-env';

/**
 * The consumer's task strategy (`celery/worker/consumer/consumer.py`, `on_task_received`;
 * `celery/worker/strategy.py`, `default`): classify the message, settle bad input the way
 * Celery does, build the {@link WorkerRequest}, drop revoked/expired ones, log and announce the
 * receipt, then hold it for its ETA or hand it to the pool.
 */
export class TaskStrategy {
  /** Deliveries received after shutdown began: left unacked, given back on consumer close. */
  readonly held: Delivery[] = [];

  constructor(
    private readonly env: WorkerEnv,
    private readonly pool: Pool,
  ) {}

  /** Never throws: every outcome is acked/rejected and counted. */
  async onDelivery(d: Delivery): Promise<void> {
    const env = this.env;
    const state = env.state;
    const c = state.counters;
    c.received++;
    if (state.shuttingDown) {
      this.held.push(d);
      return;
    }
    const r = classify(d.message, state.registry, env.config.acceptContent, {
      maxMessageSize: env.config.messageMaxSize,
      maxDecompressedSize: env.config.messageMaxDecompressedSize,
    });
    switch (r.kind) {
      case 'unknown-format':
        c.unknownFormat++;
        env.log(
          'warn',
          `Received and deleted unknown message. Wrong destination?!? (queue ${d.queue})`,
        );
        await settle(env, d, 'reject');
        return;
      case 'decode-error':
        c.decodeErrors++;
        env.log('error', `Can't decode message body: ${r.error.message} (queue ${d.queue})`);
        await settle(env, d, 'ack');
        return;
      case 'invalid':
        c.invalid++;
        env.log('error', `Received invalid task message ${r.id ?? '?'}: ${r.error.message}`);
        await settle(env, d, 'reject');
        return;
      case 'unknown': {
        c.unknown++;
        env.log(
          'error',
          `Received unregistered task of type '${r.name}' (id ${r.id ?? '?'}). The message has been rejected.`,
        );
        await settle(env, d, 'reject');
        if (r.id !== null) {
          const info = exceptionInfoOf(new NotRegistered(r.name));
          await env.backend
            ?.storeResult(r.id, prepareException(info), FAILURE, {
              traceback: null,
              request: { task: r.name, replyTo: r.replyTo, correlationId: r.correlationId },
            })
            .catch((e: unknown) => {
              env.log('error', `storing NotRegistered for ${r.id ?? ''}: ${String(e)}`);
            });
          env.sendEvent('task-failed', { uuid: r.id, exception: `NotRegistered('${r.name}')` });
        }
        return;
      }
      case 'task':
        break;
    }
    const limits = state.timeLimits.get(r.def.name) ?? {};
    const req = new WorkerRequest(r.decoded, d, r.def, state.hostname, env.config, limits);
    if (
      (req.expires !== null || state.revokedBy(req.id, req.decoded.headers) !== false) &&
      (await maybeRevoked(env, req))
    ) {
      return;
    }
    const h = req.decoded.headers;
    // Celery's INFO line (`celery/worker/strategy.py`, `info(_app_trace.LOG_RECEIVED, …)`).
    env.log('info', `Task ${req.name}[${req.id}] received`);
    env.sendEvent(
      'task-received',
      {
        uuid: req.id,
        name: req.name,
        args: typeof h.argsrepr === 'string' ? h.argsrepr : '',
        kwargs: typeof h.kwargsrepr === 'string' ? h.kwargsrepr : '',
        root_id: h.root_id ?? null,
        parent_id: h.parent_id ?? null,
        retries: h.retries ?? 0,
        eta: h.eta ?? null,
        expires: h.expires ?? null,
      },
      req,
    );
    const eta = req.eta;
    const delay = eta === null ? 0 : eta - env.now();
    // Held in memory, unacked; prefetch raised by one so other work still flows.
    if (eta !== null && delay > 0) this.pool.schedule(req, delay);
    else this.pool.enqueue(req);
  }
}
