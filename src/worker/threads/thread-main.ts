import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { runAsWorkerTask } from '../../client/current-task';
import type { PyValue } from '../../serialization/py-values';
import { SoftTimeLimitExceeded, type RetryOptions } from '../exceptions';
import type { TaskContext, TaskRequestInfo } from '../task';
import { packError, type PackedError } from './error-transfer';
import { loadTasks } from './load-tasks';
import type { FromThread, PackedRetryOptions, ThreadData, ToThread } from './messages';
import { pack, unpack } from './transfer';

/**
 * The body of one pool thread (a prefork child's `worker` loop, `billiard/pool.py`): load the
 * app module, then run one task at a time and post its outcome. `ctx.retry`/`ctx.updateState`
 * are calls back to the main thread, which owns the broker and the backend.
 */
const port = parentPort;
const data = workerData as ThreadData;
const softFlag = new Int32Array(data.softFlag);
let nextCall = 0;
const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
let current: { job: number; abort: AbortController } | null = null;

function post(m: FromThread): void {
  port?.postMessage(m);
}

// A task calling `process.exit(n)` is a Python task raising `SystemExit(n)`: billiard ≥ 4.3
// reports that before the child ends, and Celery words it without the job
// (`celery/worker/request.py`, `Request._worker_lost_info`). Posted before the thread ends.
process.on('exit', (code) => {
  post({ t: 'exiting', code });
});

/** A main-thread error arrives as a token; rethrown as an Error carrying it. */
function fromMain(p: PackedError): Error {
  const e = new Error(p.message);
  e.name = p.name;
  if (p.stack !== undefined) e.stack = p.stack;
  Object.assign(e, { celeryWireToken: p.token });
  return e;
}

function callMain(
  job: number,
  body:
    | { op: 'retry'; opts: PackedRetryOptions }
    | { op: 'updateState'; state: string; meta: ReturnType<typeof pack> }
    | { op: 'replace' | 'addToChord'; sig: ReturnType<typeof pack>; lazy?: boolean },
): Promise<unknown> {
  const call = ++nextCall;
  return new Promise((resolve, reject) => {
    pending.set(call, { resolve, reject });
    post({ t: 'call', job, call, ...body });
  });
}

function packRetry(o: RetryOptions): PackedRetryOptions {
  return {
    ...(o.countdown === undefined ? {} : { countdown: o.countdown }),
    ...(o.eta === undefined ? {} : { eta: o.eta }),
    ...(o.exc === undefined ? {} : { exc: packError(o.exc) }),
    ...(o.maxRetries === undefined ? {} : { maxRetries: o.maxRetries }),
    ...(o.args === undefined ? {} : { args: pack(o.args) }),
    ...(o.kwargs === undefined ? {} : { kwargs: pack(o.kwargs) }),
  };
}

/**
 * `ctx.signal`: aborted by the main thread's `soft` message, and — for a task that never yields
 * to the event loop — `aborted`/`throwIfAborted()` also read the shared soft-limit flag.
 */
function softSignal(abort: AbortController): AbortSignal {
  const signal = abort.signal;
  // The prototype's own getter, read before the instance property below shadows it.
  const desc = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted');
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with the signal as this
  const baseAborted = (): boolean => Reflect.apply(desc?.get ?? (() => false), signal, []) === true;
  const check = (): void => {
    if (Atomics.load(softFlag, 0) !== 0 && !baseAborted()) {
      abort.abort(new SoftTimeLimitExceeded());
    }
  };
  Object.defineProperty(signal, 'aborted', {
    get: () => {
      check();
      return baseAborted();
    },
  });
  const orig = signal.throwIfAborted.bind(signal);
  Object.defineProperty(signal, 'throwIfAborted', {
    value: () => {
      check();
      orig();
    },
  });
  return signal;
}

function contextFor(job: number, info: TaskRequestInfo, signal: AbortSignal): TaskContext {
  return {
    ...info,
    signal,
    retry: async (opts: RetryOptions = {}): Promise<never> => {
      await callMain(job, { op: 'retry', opts: packRetry(opts) });
      // The main thread always answers a retry with the error to raise.
      throw new Error('retry was not raised');
    },
    updateState: async (state: string, meta: PyValue = null): Promise<void> => {
      await callMain(job, { op: 'updateState', state, meta: pack(meta) });
    },
    // The signature crosses as its dict; the main thread rebuilds it and runs the real call.
    replace: async (sig): Promise<never> => {
      await callMain(job, { op: 'replace', sig: pack(sig.toDict(true)) });
      throw new Error('replace was not raised');
    },
    addToChord: async (sig, o = {}): Promise<string> =>
      String(
        await callMain(job, {
          op: 'addToChord',
          sig: pack(sig.toDict(true)),
          lazy: o.lazy ?? false,
        }),
      ),
  };
}

const heapKiB = (): number => Math.round(getHeapStatistics().used_heap_size / 1024);

async function run(
  lookup: Awaited<ReturnType<typeof loadTasks>>,
  m: Extract<ToThread, { t: 'run' }>,
): Promise<void> {
  const abort = new AbortController();
  current = { job: m.job, abort };
  const children: PyValue[] = [];
  Atomics.store(softFlag, 0, 0);
  try {
    const def = lookup.get(m.name);
    if (!def) throw new Error(`task ${m.name} is not exported by the app module in the thread`);
    const args = unpack(m.args) as unknown[];
    const handler = def.handler as (...a: unknown[]) => unknown;
    const signal = softSignal(abort);
    const ret = await runAsWorkerTask({ ...m.trail, children }, () =>
      m.bind
        ? handler(contextFor(m.job, unpack(m.info) as never, signal), ...args)
        : handler(...args),
    );
    current = null;
    try {
      post({
        t: 'done',
        job: m.job,
        value: pack(ret === undefined ? null : ret),
        heapKiB: heapKiB(),
        children: pack(children),
      });
    } catch (e) {
      // A return value structured clone refuses (a function, a class with private state).
      post({
        t: 'done',
        job: m.job,
        error: packError(encodeError(e)),
        heapKiB: heapKiB(),
        children: pack(children),
      });
    }
  } catch (e) {
    current = null;
    post({
      t: 'done',
      job: m.job,
      error: packError(e),
      heapKiB: heapKiB(),
      children: pack(children),
    });
  }
}

function encodeError(e: unknown): Error {
  const err = new Error(`Object of this type cannot cross to the main thread: ${String(e)}`);
  Object.assign(err, { excType: 'EncodeError', excModule: 'kombu.exceptions' });
  return err;
}

async function main(): Promise<void> {
  let lookup: Awaited<ReturnType<typeof loadTasks>>;
  try {
    lookup = await loadTasks(data.appPath);
  } catch (e) {
    post({ t: 'fatal', message: e instanceof Error ? e.message : String(e) });
    return;
  }
  port?.on('message', (m: ToThread) => {
    if (m.t === 'run') void run(lookup, m);
    else if (m.t === 'soft') {
      if (current?.job === m.job) current.abort.abort(new SoftTimeLimitExceeded());
    } else {
      const p = pending.get(m.call);
      pending.delete(m.call);
      if (m.error === undefined) p?.resolve(m.value === undefined ? undefined : unpack(m.value));
      else p?.reject(fromMain(m.error));
    }
  });
  post({ t: 'ready', names: lookup.names() });
}

void main();
