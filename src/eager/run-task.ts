import { AsyncLocalStorage } from 'node:async_hooks';
import { hostname as osHostname } from 'node:os';
import type { ResultBackend } from '../backends/backend';
import { MemoryBackend } from '../backends/memory/memory-backend';
import type { Delivery, PublishTarget } from '../brokers/broker';
import type { ApplyOptions } from '../client/apply-options';
import { errorOf } from '../client/async-result';
import type { CeleryClient } from '../client/client';
import type { CeleryConfig } from '../config/config';
import { CeleryError } from '../errors/errors';
import { prepareException } from '../protocol/exception';
import type { RawMessage } from '../protocol/raw-message';
import type { TaskInput } from '../protocol/task-input';
import type { PyValue } from '../serialization/py-values';
import { NotRegistered } from '../worker/exceptions';
import { classify } from '../worker/receive';
import { WorkerRequest } from '../worker/request';
import type { TaskDefinition, TaskHandler, TaskRegistry } from '../worker/task';
import { formatTraceback } from '../worker/traceback';
import { traceTask, type TraceEnv } from '../worker/tracer';
import { EagerResult } from './eager-result';
import { TeeBackend } from './tee-backend';

/** What eager runs need from the app. */
export interface EagerHost {
  readonly config: CeleryConfig;
  /** The tasks that run in process (`app.tasks`). */
  readonly registry: TaskRegistry;
  /** Builds the message (`prepare`) and is the results' host. */
  readonly client: CeleryClient;
  backend(): Promise<ResultBackend>;
}

/** The eager task running now, for `parent_id`/`root_id` of tasks it calls (`_task_stack.top`). */
const current = new AsyncLocalStorage<{ id: string; rootId: string }>();

/** Record what the handler threw, so that `task_eager_propagates` re-throws the same value. */
function capturing(handler: TaskHandler, box: { thrown?: unknown }): TaskHandler {
  const h = handler as (...a: unknown[]) => unknown;
  const wrapped = (...a: unknown[]): unknown => {
    try {
      const r = h(...a);
      if (r instanceof Promise) {
        return r.catch((e: unknown) => {
          box.thrown = e;
          throw e;
        });
      }
      return r;
    } catch (e) {
      box.thrown = e;
      throw e;
    }
  };
  return wrapped;
}

function eagerDelivery(message: RawMessage, target: PublishTarget): Delivery {
  return {
    message,
    // `Task.apply`: `delivery_info = {is_eager: True, exchange, routing_key, priority}`.
    deliveryInfo: { exchange: target.exchange, routing_key: target.routingKey },
    deliveryTag: 0,
    redelivered: false,
    queue: target.routingKey,
    session: 0,
    isVoid: false,
    ack: () => Promise.resolve(),
    reject: () => Promise.resolve(),
  };
}

/** A published task (callback, chain step) as eager call options. */
function optionsOf(input: TaskInput): ApplyOptions {
  return {
    taskId: input.id,
    args: input.args ?? [],
    kwargs: input.kwargs ?? {},
    ...(input.rootId ? { rootId: input.rootId } : {}),
    ...(input.parentId ? { parentId: input.parentId } : {}),
    ...(input.link ? { link: input.link } : {}),
    ...(input.linkError ? { linkError: input.linkError } : {}),
  };
}

/**
 * Celery's `Task.apply` (`celery/app/task.py`) for a registered TypeScript task: run it now, in
 * process, through the worker's tracer (argument binding, `bind`, time limits, Retry / Reject /
 * Ignore, exception and traceback capture) and return an {@link EagerResult}. Nothing is
 * published. `ctx.retry()` re-runs the task inline with `retries + 1` and the same id, ignoring
 * the countdown (`retval.sig.apply(retries=retries + 1)`); at `max_retries` the failure is final.
 * With `propagate` (default `task_eager_propagates`) a failure throws what the task threw
 * instead of returning a FAILURE result. Link callbacks run eagerly too.
 */
export async function applyEagerly<R = PyValue>(
  host: EagerHost,
  name: string,
  opts: ApplyOptions = {},
  propagate: boolean = host.config.taskEagerPropagates,
): Promise<EagerResult<R>> {
  const def = host.registry.get(name);
  if (!def) throw new NotRegistered(name);
  const { ignoreResult, ...rest } = opts;
  const ignored = ignoreResult ?? def.options.ignoreResult ?? host.config.taskIgnoreResult;
  const parent = current.getStore();
  const call: ApplyOptions =
    parent && rest.parentId === undefined
      ? { ...rest, parentId: parent.id, rootId: rest.rootId ?? parent.rootId }
      : rest;
  const prepared = host.client.prepare(name, call);
  const id = prepared.id;
  const message = prepared.item.message;
  const receipt = classify(message, host.registry, [message.contentType]);
  if (receipt.kind !== 'task') {
    throw new CeleryError(
      'E_INVALID_TASK',
      `cannot run ${name} eagerly: message is ${receipt.kind}`,
    );
  }
  const box: { thrown?: unknown } = {};
  // The own record needs every outcome, so the run itself never ignores its result.
  const runDef: TaskDefinition = {
    ...def,
    handler: capturing(def.handler, box),
    options: { ...def.options, ignoreResult: false },
  };
  const req = new WorkerRequest(
    receipt.decoded,
    eagerDelivery(message, prepared.item.target),
    runDef,
    osHostname(),
    host.config,
  );
  const own = new MemoryBackend({
    serializer: host.config.resultSerializer,
    accept: [...(host.config.resultAcceptContent ?? host.config.acceptContent), 'application/json'],
    profile: `celery-${host.config.celeryLine}`,
  });
  const store = host.config.taskStoreEagerResult && !ignored ? await host.backend() : null;
  let retry: TaskInput | undefined;
  const env: TraceEnv = {
    backend: new TeeBackend(own, store),
    config: host.config,
    hostname: req.hostname,
    pid: process.pid,
    monotonic: () => performance.now() / 1000,
    sendEvent: () => undefined,
    publish: async (input) => {
      // `Task.retry` publishes the same id again; anything else is a callback or chain step.
      if (input.id === id) retry = input;
      else await applyEagerly(host, input.task, optionsOf(input), false);
    },
    log: () => undefined,
  };
  const never = new Promise<'terminated' | 'abandoned'>(() => undefined);
  const rootId = typeof call.rootId === 'string' ? call.rootId : id;
  const outcome = await current.run({ id, rootId }, () =>
    traceTask(req, env, { abort: new AbortController(), stopped: never }),
  );
  if (outcome.kind === 'retry' && retry) {
    return applyEagerly<R>(
      host,
      name,
      {
        ...opts,
        taskId: id,
        args: retry.args ?? [],
        kwargs: retry.kwargs ?? {},
        retries: retry.retries ?? (opts.retries ?? 0) + 1,
      },
      propagate,
    );
  }
  if (outcome.kind === 'reject' || outcome.kind === 'ignore') {
    // `trace_task`: `Info(REJECTED, exc)` / `Info(IGNORED, exc)`, the exception as the result.
    const state = outcome.kind === 'reject' ? 'REJECTED' : 'IGNORED';
    const thrown = box.thrown as { reason?: string; message?: string; requeue?: boolean };
    const args: PyValue[] =
      outcome.kind === 'reject'
        ? [thrown.reason ?? '', outcome.requeue]
        : thrown.message
          ? [thrown.message]
          : [];
    const info = {
      excType: outcome.kind === 'reject' ? 'Reject' : 'Ignore',
      excModule: 'celery.exceptions',
      args,
    };
    // The tracer keeps the exception's traceback (`ExceptionInfo(internal=True)`).
    await own.storeResult(id, prepareException(info), state, {
      request: req.storeRequest(),
      traceback: formatTraceback(box.thrown, info),
    });
  }
  const meta = await own.getTaskMeta(id);
  await own.close();
  if (outcome.kind === 'failure' && propagate) {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- Python re-raises as is.
    throw box.thrown ?? errorOf(id, meta) ?? new CeleryError('E_TASK_FAILED', `${name} failed`);
  }
  return new EagerResult<R>(id, meta, host.client, name);
}
