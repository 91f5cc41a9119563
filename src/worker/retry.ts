import type { CeleryConfig } from '../config/config';
import type { PublishTarget } from '../brokers/broker';
import { PyTupleView, pyRepr } from '../protocol/repr';
import type { TaskInput } from '../protocol/task-input';
import type { PyValue } from '../serialization/py-values';
import { toTaskInput, type ApplyOptions } from '../client/apply-options';
import { fromCeleryOptions } from '../client/celery-options';
import { nativeDelayTarget } from '../client/native-delay';
import { routeTask } from '../protocol/route';
import { getProfile } from '../protocol/profiles';
import { MaxRetriesExceededError, Retry, type RetryOptions } from './exceptions';
import type { WorkerRequest } from './request';
import { executionOptions, requestStamps } from './execution-options';

/** A retry to publish: the message input and where it goes. */
export interface RetryPlan {
  input: TaskInput;
  target: PublishTarget;
  /** Seconds (countdown) or the absolute eta, for the `Retry` semi-predicate. */
  when: number | Date;
}

/**
 * `celery/app/task.py`, `Task.retry` + `signature_from_request`: the same id, `retries + 1`, a
 * new eta, everything else kept (behaviour.md §7). Throws the original `exc` or
 * {@link MaxRetriesExceededError} when `max_retries` is exceeded.
 */
export function planRetry(
  req: WorkerRequest,
  opts: RetryOptions,
  config: CeleryConfig,
  now: Date = new Date(),
): RetryPlan {
  const h = req.decoded.headers;
  const d = req.decoded;
  const retries = (typeof h.retries === 'number' ? h.retries : 0) + 1;
  const { args, kwargs } = rebindRetryArgs(req, opts);
  const taskOpts = req.def.options;
  const maxRetries = opts.maxRetries === undefined ? (taskOpts.maxRetries ?? 3) : opts.maxRetries;
  if (maxRetries !== null && retries > maxRetries) {
    // Python re-raises the given exc as is; it may be any thrown value.
    // eslint-disable-next-line @typescript-eslint/only-throw-error
    if (opts.exc !== undefined) throw opts.exc;
    throw new MaxRetriesExceededError(
      `Can't retry ${req.name}[${req.id}] args:${pyRepr(new PyTupleView([...args]))} kwargs:${pyRepr({ ...kwargs })}`,
    );
  }
  let countdown = opts.countdown;
  if (opts.eta === undefined && countdown === undefined) {
    countdown = taskOpts.defaultRetryDelay ?? 180;
  }
  // `signature_from_request(request, args, kwargs, countdown=…, eta=…, retries=…, **options)`:
  // the request's options through the shared snake_case table, then the caller's overrides.
  const profile = getProfile(`celery-${config.celeryLine}`);
  const { apply } = fromCeleryOptions({ ...executionOptions(req, profile), retries });
  const o: ApplyOptions = {
    ...apply,
    args: [...args],
    kwargs: { ...kwargs },
    // `send_task` fills a missing root/parent from `current_worker_task` (the request itself).
    rootId: apply.rootId ?? req.id,
    parentId: apply.parentId ?? req.id,
  };
  if (countdown !== undefined) o.countdown = countdown;
  if (opts.eta !== undefined) o.eta = opts.eta;
  if (opts.expires === null) delete o.expires;
  else if (opts.expires !== undefined) o.expires = opts.expires;
  const input = toTaskInput(
    req.name,
    req.id,
    o,
    {
      serializer: config.taskSerializer,
      compression: config.taskCompression,
      protocol: config.taskProtocol,
      deliveryMode: config.taskDefaultDeliveryMode,
      profile: `celery-${config.celeryLine}`,
      jsonDialect: config.jsonDialect,
    },
    apply.priority,
  );
  // The embed goes back exactly as it came (`chain=request.chain`, `chord=request.chord`).
  input.chain = d.embed.chain;
  input.chord = d.embed.chord;
  const stamps = requestStamps(req);
  if (stamps) input.stamps = stamps;
  const di = req.delivery.deliveryInfo;
  // Routing: a default-exchange delivery goes back to the queue named by its routing key.
  let target: PublishTarget = { exchange: di.exchange, routingKey: di.routing_key };
  // Quorum-queue estates: the retry's countdown goes through the delay exchanges (`send_task`).
  const explicit = di.exchange === '' && di.routing_key ? { queue: di.routing_key } : {};
  const route = routeTask(req.name, [...args], { ...kwargs }, explicit, config);
  const timing = { countdown, eta: opts.eta ?? undefined };
  const delay = nativeDelayTarget(route, timing, config, `celery-${config.celeryLine}`, now);
  if (delay.kind === 'delay') target = delay.target;
  return { input, target, when: opts.eta ?? countdown ?? 0 };
}

/**
 * `Task.retry` argument rebinding (celery#6494, Celery 5.7): explicit `args` with the call's
 * kwargs drop the kwargs those positions now fill; explicit `kwargs` with the call's args
 * replace the positional values they name. Needs declared `params` (Python inspects the
 * signature; without one nothing is rebound, as when `inspect.signature` fails).
 */
export function rebindRetryArgs(
  req: WorkerRequest,
  opts: RetryOptions,
): { args: readonly PyValue[]; kwargs: Readonly<Record<string, PyValue>> } {
  const d = req.decoded;
  const params = req.def.options.params;
  const given = { args: opts.args ?? d.args, kwargs: opts.kwargs ?? d.kwargs };
  if (params === undefined) return given;
  if (opts.args !== undefined && opts.kwargs === undefined && Object.keys(d.kwargs).length > 0) {
    const kwargs: Record<string, PyValue> = { ...d.kwargs };
    for (const p of params.slice(0, opts.args.length)) Reflect.deleteProperty(kwargs, p);
    return { args: opts.args, kwargs };
  }
  if (opts.kwargs !== undefined && opts.args === undefined && d.args.length > 0) {
    // `signature.bind_partial(*request.args)`: too many positionals is a TypeError → unchanged.
    if (d.args.length > params.length) return given;
    const args = [...d.args];
    const kwargs: Record<string, PyValue> = {};
    for (const [k, v] of Object.entries(opts.kwargs)) {
      const i = params.indexOf(k);
      if (i >= 0 && i < args.length) args[i] = v;
      else kwargs[k] = v;
    }
    return { args, kwargs };
  }
  return given;
}

/** The semi-predicate thrown after a successful retry publish. */
export function retrySignal(plan: RetryPlan, exc: unknown): Retry {
  return new Retry(exc, plan.when);
}
