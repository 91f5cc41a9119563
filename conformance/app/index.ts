import { Redis } from 'ioredis';
import {
  defineTask,
  PythonError,
  type CeleryConfig,
  type PyValue,
  type TaskContext,
  type TaskDefinition,
} from 'celery-wire';
import { pyRepr } from 'celery-wire/wire';
import { pyAdd, pyMul, pySum } from './pyops';

/** Python `str(v)`. */
function pyStr(v: PyValue): string {
  return typeof v === 'string' ? v : pyRepr(v);
}

/**
 * The conformance task catalogue (`/work/shared/spec/conformance-tasks.md`) in TypeScript: the
 * same names and behaviour as `python-peers/peer/tasks.py`. Run it with
 * `celery-wire worker --app conformance/app/index.ts -Q ts`.
 */

/** Python builtin exception classes `conformance.fail` may raise. */
const BUILTIN_EXCEPTIONS = new Set([
  'Exception',
  'ValueError',
  'KeyError',
  'RuntimeError',
  'TypeError',
  'IndexError',
  'AttributeError',
  'ZeroDivisionError',
  'NotImplementedError',
  'LookupError',
  'ArithmeticError',
  'OverflowError',
  'AssertionError',
  'OSError',
  'IOError',
  'TimeoutError',
  'PermissionError',
  'FileNotFoundError',
  'ConnectionError',
  'NameError',
  'UnicodeError',
  'MemoryError',
  'RecursionError',
  'StopIteration',
  'BufferError',
  'EOFError',
  'ImportError',
  'ModuleNotFoundError',
  'BaseException',
]);

/** Sleep `ms`, rejecting with the signal's reason (soft limit, terminate) as soon as it aborts. */
function sleepAbortable(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function redisUrl(): string {
  const env = process.env;
  const url = env.CONFORMANCE_REDIS_URL ?? env.CELERY_RESULT_BACKEND ?? '';
  return url.startsWith('redis') ? url : 'redis://127.0.0.1:6379/0';
}

export const tasks: TaskDefinition[] = [
  defineTask('conformance.add', (x: PyValue, y: PyValue) => pyAdd(x, y), { params: ['x', 'y'] }),
  defineTask('conformance.mul', (x: PyValue, y: PyValue) => pyMul(x, y), { params: ['x', 'y'] }),
  defineTask('conformance.identity', (value: PyValue) => value, { params: ['value'] }),
  defineTask('conformance.echo', (...all: PyValue[]) => ({
    args: all.slice(0, -1),
    kwargs: all.at(-1) ?? {},
  })),
  defineTask('conformance.tsum', (values: PyValue) => pySum(values), { params: ['values'] }),
  defineTask(
    'conformance.fail',
    (excType: PyValue, message: PyValue) => {
      if (typeof excType !== 'string' || !BUILTIN_EXCEPTIONS.has(excType)) {
        throw new PythonError('TypeError', `not a builtin exception: ${pyStr(excType)}`);
      }
      throw new PythonError(excType, pyStr(message), {
        args: [message],
      });
    },
    { params: ['exc_type', 'message'], defaults: { exc_type: 'ValueError', message: 'boom' } },
  ),
  defineTask(
    'conformance.sleep',
    async (ctx: TaskContext, seconds: PyValue) => {
      await sleepAbortable(Number(seconds) * 1000, ctx.signal);
      return seconds;
    },
    { params: ['seconds'], bind: true },
  ),
  defineTask(
    'conformance.retry',
    async (ctx: TaskContext, times: PyValue, countdown: PyValue) => {
      if (ctx.retries < Number(times)) return ctx.retry({ countdown: Number(countdown) });
      return ctx.retries;
    },
    { params: ['times', 'countdown'], defaults: { countdown: 0 }, bind: true, maxRetries: 3 },
  ),
  defineTask(
    'conformance.progress',
    async (ctx: TaskContext, steps: PyValue) => {
      const n = Number(steps);
      for (let i = 1; i <= n; i++) await ctx.updateState('PROGRESS', { current: i, total: steps });
      return steps;
    },
    { params: ['steps'], bind: true },
  ),
  defineTask(
    'conformance.context',
    (ctx: TaskContext) => ({
      id: ctx.id,
      task: ctx.task,
      root_id: ctx.rootId,
      parent_id: ctx.parentId,
      group: ctx.group,
      group_index: ctx.groupIndex,
      retries: ctx.retries,
      eta: ctx.eta,
      expires: ctx.expires,
      correlation_id: ctx.correlationId,
      reply_to: ctx.replyTo,
      delivery_info: {
        exchange: ctx.deliveryInfo.exchange,
        routing_key: ctx.deliveryInfo.routing_key,
        priority: ctx.deliveryInfo.priority ?? null,
      },
      hostname: ctx.hostname,
      args: [...ctx.args],
      kwargs: { ...ctx.kwargs },
      timelimit: ctx.timelimit ? [...ctx.timelimit] : null,
      shadow: ctx.shadow,
    }),
    { params: [], bind: true },
  ),
  defineTask('conformance.ignored', () => null, { params: [], ignoreResult: true }),
  defineTask(
    'conformance.crash_once',
    async (marker: PyValue) => {
      const r = new Redis(redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        const set = await r.set(`conformance:crash:${pyStr(marker)}`, '1', 'NX');
        // Die at once: no ack, no cleanup, as the Python side's os.kill(SIGKILL).
        if (set === 'OK') process.kill(process.pid, 'SIGKILL');
      } finally {
        r.disconnect();
      }
      return 'survived';
    },
    { params: ['marker'], acksLate: true, rejectOnWorkerLost: true },
  ),
];

/** Same settings as the Python peer app (`python-peers/peer/app.py`): accept every safe codec. */
export const config: Partial<CeleryConfig> = {
  acceptContent: ['json', 'msgpack', 'yaml'],
  resultAcceptContent: ['json', 'msgpack', 'yaml'],
  // The same JSON the Python peer reads (python-peers/peer/app.py), e.g. SQS's queue_name_prefix.
  ...(process.env.CELERY_BROKER_TRANSPORT_OPTIONS
    ? {
        brokerTransportOptions: JSON.parse(process.env.CELERY_BROKER_TRANSPORT_OPTIONS) as Record<
          string,
          unknown
        >,
      }
    : {}),
  // Sentinel estates: the backend's master_name, as python-peers/peer/app.py reads it.
  ...(process.env.CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS
    ? {
        resultBackendTransportOptions: JSON.parse(
          process.env.CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS,
        ) as Record<string, unknown>,
      }
    : {}),
  // Quorum-queue estate (issue 9): the same switch python-peers/peer/app.py reads.
  ...(['1', 'true', 'yes'].includes(process.env.CELERY_QUORUM_QUEUES ?? '')
    ? { taskDefaultQueueType: 'quorum' as const, taskCreateMissingQueueType: 'quorum' as const }
    : {}),
};

export default tasks;
