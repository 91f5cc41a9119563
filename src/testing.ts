/**
 * `celery-wire/testing`: test without brokers, in the spirit of `celery.contrib.testing`
 * (`celery/contrib/testing/worker.py`, `start_worker`; `app.py`, `TestApp`). An app on a private
 * in-memory broker and result backend, the real {@link Worker} consuming it in the same process,
 * and a wait for the worker to be idle. ETA/countdown run on the global timers, so jest's fake
 * timers drive them: `jest.useFakeTimers()`, then `await jest.advanceTimersByTimeAsync(ms)`.
 */
import { setImmediate as realSetImmediate } from 'node:timers';
import { createApp, type AppOptions, type CeleryApp } from './app/app';
import { createBackend, createBroker } from './app/factories';
import type { ResultBackend } from './backends/backend';
import { MemoryBackend, MemoryResultStore } from './backends/memory/memory-backend';
import type { Broker } from './brokers/broker';
import { MemoryBroker, MemoryBrokerState } from './brokers/memory/memory-broker';
import type { CeleryConfig } from './config/config';
import { CeleryTimeoutError } from './errors/errors';
import type { TaskDefinition } from './worker/task';
import { Worker, type WorkerLogger } from './worker/worker';

export { MemoryBroker, MemoryBrokerState, sharedBrokerState } from './brokers/memory/memory-broker';
export {
  MemoryBackend,
  MemoryResultStore,
  sharedResultStore,
} from './backends/memory/memory-backend';
export { EagerResult } from './eager/eager-result';

/** Captured before any test can install fake timers: idle waits and their timeout stay real. */
const realNow = performance.now.bind(performance);

/**
 * `TestApp`: a client app on a private `memory://` broker and in-memory result backend (nothing
 * shared with other tests). Settings and `tasks` as for `createApp`.
 */
export function createTestApp(options: AppOptions = {}): CeleryApp {
  return createApp({
    brokerUrl: 'memory://',
    resultBackend: 'cache+memory://',
    ...options,
    broker: options.broker ?? new MemoryBroker({ state: new MemoryBrokerState() }),
    backend: options.backend ?? new MemoryBackend({ store: new MemoryResultStore() }),
  });
}

/** Options of {@link startWorker}. */
export interface StartWorkerOptions {
  /** Tasks the worker serves (default: the app's `tasks`). */
  tasks?: Iterable<TaskDefinition>;
  /** `-Q` (default `[task_default_queue]`). */
  queues?: readonly string[];
  /** `-c` (default 1). */
  concurrency?: number;
  /** `-n` (default `celery@%h`). */
  hostname?: string;
  /** Settings for the worker over the app's (e.g. `taskAcksLate`). */
  config?: Partial<CeleryConfig>;
  /** Log sink (default: kept in {@link TestWorker.logs}). */
  logger?: WorkerLogger;
  /** Remote control over the broker (default true). */
  enableControl?: boolean;
  sendEvents?: boolean;
}

/** A running in-process worker (`start_worker`'s context). */
export class TestWorker {
  constructor(
    readonly app: CeleryApp,
    readonly worker: Worker,
    private readonly broker: Broker,
    /** Worker log lines, `LEVEL message` (empty when a logger was given). */
    readonly logs: readonly string[],
  ) {}

  /** Nothing to do now: queues drained, nothing running or reserved; ETA-held tasks may wait. */
  isIdle(): boolean {
    const st = this.worker.state;
    if (st.active.size > 0 || st.reserved.size > 0) return false;
    const b = this.broker;
    if (!(b instanceof MemoryBroker)) return true;
    if (this.worker.queues.some((q) => b.size(q.name) > 0)) return false;
    return b.unackedCount() === st.scheduled.size;
  }

  /**
   * Wait until the worker is idle (twice in a row, a macrotask apart, so that follow-up
   * messages a task published — retries, chain steps, chord bodies — are counted). Rejects with
   * `CeleryTimeoutError` after `timeoutMs` of real time (default 10 s).
   */
  async idle(opts: { timeoutMs?: number } = {}): Promise<void> {
    const limit = opts.timeoutMs ?? 10_000;
    const start = realNow();
    let calm = 0;
    while (calm < 2) {
      await new Promise<void>((resolve) => realSetImmediate(resolve));
      calm = this.isIdle() ? calm + 1 : 0;
      if (realNow() - start > limit) {
        throw new CeleryTimeoutError(`worker not idle after ${String(limit)} ms`);
      }
    }
  }

  /** Warm shutdown of the worker; the app stays usable. */
  stop(): Promise<void> {
    return this.worker.shutdown();
  }
}

function workerBroker(appBroker: Broker, app: CeleryApp): Broker {
  // The worker gets its own connection to the same server: its shutdown must not close the app's.
  if (appBroker instanceof MemoryBroker) {
    return new MemoryBroker({ url: appBroker.target, state: appBroker.state });
  }
  return createBroker(app.config);
}

function workerBackend(appBackend: ResultBackend, app: CeleryApp, broker: Broker): ResultBackend {
  if (appBackend instanceof MemoryBackend) {
    return new MemoryBackend({
      store: appBackend.store,
      serializer: app.config.resultSerializer,
      accept: app.config.resultAcceptContent ?? app.config.acceptContent,
      profile: `celery-${app.config.celeryLine}`,
    });
  }
  return createBackend(app.config, broker);
}

/**
 * `celery.contrib.testing.worker.start_worker`: the real {@link Worker} consuming the app's
 * broker in this process, storing to the app's result backend; started when this resolves.
 */
export async function startWorker(
  app: CeleryApp,
  opts: StartWorkerOptions = {},
): Promise<TestWorker> {
  const broker = workerBroker(await app.broker(), app);
  const backend = workerBackend(await app.backend(), app, broker);
  const logs: string[] = [];
  const logger: WorkerLogger = opts.logger ?? {
    log: (level, msg) => {
      logs.push(`${level.toUpperCase()} ${msg}`);
    },
  };
  const worker = new Worker({
    broker,
    backend,
    config: { ...app.config, ...opts.config },
    tasks: opts.tasks ?? app.tasks.names().flatMap((n) => app.tasks.get(n) ?? []),
    ...(opts.queues ? { queues: opts.queues } : {}),
    ...(opts.concurrency === undefined ? {} : { concurrency: opts.concurrency }),
    ...(opts.hostname === undefined ? {} : { hostname: opts.hostname }),
    ...(opts.enableControl === undefined ? {} : { enableControl: opts.enableControl }),
    ...(opts.sendEvents === undefined ? {} : { sendEvents: opts.sendEvents }),
    logger,
    // Read the clock late: jest's fake timers replace `Date` after this module was loaded.
    now: () => Date.now(),
  });
  const tw = new TestWorker(app, worker, broker, logs);
  await worker.start();
  return tw;
}

/** `with start_worker(app): …`: start, run `fn`, always stop. */
export async function withWorker<T>(
  app: CeleryApp,
  fn: (w: TestWorker) => Promise<T>,
  opts: StartWorkerOptions = {},
): Promise<T> {
  const w = await startWorker(app, opts);
  try {
    return await fn(w);
  } finally {
    await w.stop();
  }
}
