import type { CeleryConfig } from '../config/config';
import type { PublishTarget } from '../brokers/broker';
import { PyTupleView, pyRepr } from '../protocol/repr';
import type { TaskInput } from '../protocol/task-input';
import { ALL_HEADER_KEYS } from '../protocol/profiles';
import { isPyDict, type PyValue } from '../serialization/py-values';
import { nativeDelayTarget } from '../client/native-delay';
import { routeTask } from '../protocol/route';
import { MaxRetriesExceededError, Retry, type RetryOptions } from './exceptions';
import type { WorkerRequest } from './request';

/**
 * Header keys Celery sets itself; everything else is a custom header kept on retry
 * (`celery/app/task.py`, `Context._get_custom_headers`). The newest profile's v2 keys are a
 * superset of the older lines'; the rest are what kombu adds and what v1/hybrid bodies carry.
 */
const CELERY_HEADERS: ReadonlySet<string> = new Set([
  ...ALL_HEADER_KEYS,
  'compression',
  'redelivered',
  'headers',
  'taskset',
  'chord',
  'callbacks',
  'errbacks',
  'kwargs',
  'args',
  'utc',
  'meth',
]);

/** A retry to publish: the message input and where it goes. */
export interface RetryPlan {
  input: TaskInput;
  target: PublishTarget;
  /** Seconds (countdown) or the absolute eta, for the `Retry` semi-predicate. */
  when: number | Date;
}

function str(v: PyValue | undefined): string | null {
  return typeof v === 'string' ? v : null;
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
  const custom: Record<string, PyValue> = {};
  for (const [k, v] of Object.entries(h)) {
    if (!CELERY_HEADERS.has(k) && !k.startsWith('x-death')) custom[k] = v;
  }
  const tl = Array.isArray(h.timelimit) ? (h.timelimit as PyValue[]) : [];
  const num = (v: PyValue | undefined): number | null => (typeof v === 'number' ? v : null);
  const stamps = isPyDict(h.stamps) ? h.stamps : undefined;
  const di = req.delivery.deliveryInfo;
  const input: TaskInput = {
    task: req.name,
    id: req.id,
    args: [...args],
    kwargs: { ...kwargs },
    retries,
    ...(countdown === undefined ? {} : { countdown }),
    ...(opts.eta === undefined ? {} : { eta: opts.eta }),
    expires: opts.expires === undefined ? str(h.expires) : opts.expires,
    rootId: str(h.root_id) ?? req.id,
    // `send_task` fills a missing parent from `current_worker_task` (captured: parent = own id).
    parentId: str(h.parent_id) ?? req.id,
    groupId: str(h.group),
    groupIndex: num(h.group_index),
    shadow: str(h.shadow),
    timeLimit: num(tl[0]),
    softTimeLimit: num(tl[1]),
    link: d.embed.callbacks,
    linkError: d.embed.errbacks,
    chain: d.embed.chain,
    chord: d.embed.chord,
    ...(typeof h.ignore_result === 'boolean' ? { ignoreResult: h.ignore_result } : {}),
    ...(typeof h.replaced_task_nesting === 'number'
      ? { replacedTaskNesting: h.replaced_task_nesting }
      : {}),
    ...(stamps ? { stamps } : {}),
    ...(Object.keys(custom).length > 0 ? { headers: custom } : {}),
    ...(str(d.properties.reply_to) === null ? {} : { replyTo: str(d.properties.reply_to) ?? '' }),
    ...(di.priority === undefined ? {} : { priority: di.priority }),
    serializer: config.taskSerializer,
    compression: config.taskCompression,
    protocol: config.taskProtocol,
    jsonDialect: config.jsonDialect,
    profile: `celery-${config.celeryLine}`,
  };
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
