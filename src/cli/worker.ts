import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CELERY_LINES,
  resolveConfig,
  type CeleryConfig,
  type CeleryLine,
  type WorkerPoolName,
} from '../config/config';
import { createApp } from '../app/app';
import { TaskRegistry, type TaskDefinition } from '../worker/task';
import type { Worker, WorkerLogger } from '../worker/worker';
import type { CliIo } from './io';
import { LineBuffer } from './line-buffer';
import { otelInstrumentation } from '../telemetry/otel';
import { prometheusInstrumentation } from '../telemetry/prometheus';
import { serveMetrics, type MetricsServer } from '../telemetry/metrics-server';

const USAGE = `usage: celery-wire worker --app PATH [options]

  -A, --app PATH            module exporting \`tasks\` (TaskDefinition[]) and optionally \`config\`
  -Q, --queues q1,q2        queues to consume (default: task_default_queue, "celery")
  -c, --concurrency N       tasks running at the same time (default 1)
  -P, --pool prefork|solo|threads
                            prefork: task bodies run on N worker threads, each loading the app
                            (CPU-bound tasks, hard time limits that kill); solo/threads: in the
                            worker's own thread, async handlers interleaving (default solo)
      --autoscale MAX,MIN   prefork: grow/shrink the threads with the load
      --max-tasks-per-child N      prefork: replace a thread after N tasks
      --max-memory-per-child KIB   prefork: replace a thread whose heap exceeds KIB
  -n, --hostname NAME       node name, %h/%n/%d expanded (default celery@%h)
  -b, --broker URL          broker URL (default $CELERY_BROKER_URL or the app config)
      --backend URL         result backend (default $CELERY_RESULT_BACKEND or the app config)
  -l, --loglevel LEVEL      debug|info|warning|error (default info)
  -E, --task-events         send task events (worker_send_task_events)
      --prefetch-multiplier N
      --without-control     do not consume the pidbox (no remote control)
      --visibility-timeout S Redis transport visibility_timeout in seconds (default 3600)
      --celery-line 4.4…5.7 Celery line whose result format and json dialect to write (default 5.7)
      --metrics-port N      serve Prometheus metrics (celery-exporter's names) on :N/metrics
      --metrics-host H      address for --metrics-port (default 0.0.0.0)
  -h, --help                show this help

Signals (as celery worker): SIGTERM warm shutdown (running tasks finish, held messages go back,
exit 0); SIGINT warm shutdown (exit 1); SIGQUIT or a second signal: cold shutdown (running tasks
are abandoned and their acks_late messages go back, exit 1). The process exits once the shutdown
completed, even if the app module keeps handles open.
`;

interface WorkerArgs {
  help?: boolean;
  app?: string;
  queues?: string[];
  concurrency: number;
  hostname: string;
  broker?: string;
  backend?: string;
  loglevel: string;
  events: boolean;
  prefetchMultiplier?: number;
  control: boolean;
  visibilityTimeout?: number;
  celeryLine?: CeleryLine;
  pool?: WorkerPoolName;
  autoscale?: { max: number; min: number };
  maxTasksPerChild?: number;
  maxMemoryPerChild?: number;
  metricsPort?: number;
  metricsHost?: string;
}

const POOLS: readonly WorkerPoolName[] = ['prefork', 'solo', 'threads'];

function positiveInt(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer`);
  return n;
}

/** Parse `celery worker`-style options; throws on unknown ones. */
export function parseWorkerArgs(argv: readonly string[]): WorkerArgs {
  const a: WorkerArgs = {
    concurrency: 1,
    hostname: 'celery@%h',
    loglevel: 'info',
    events: false,
    control: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i] ?? '';
    const eq = raw.indexOf('=');
    const flag = raw.startsWith('--') && eq > 0 ? raw.slice(0, eq) : raw;
    const value = (): string => {
      if (raw.startsWith('--') && eq > 0) return raw.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '-h':
      case '--help':
        a.help = true;
        break;
      case '-A':
      case '--app':
        a.app = value();
        break;
      case '-Q':
      case '--queues':
        a.queues = value().split(',').filter(Boolean);
        break;
      case '-c':
      case '--concurrency':
        a.concurrency = Number(value());
        break;
      case '-n':
      case '--hostname':
        a.hostname = value();
        break;
      case '-b':
      case '--broker':
        a.broker = value();
        break;
      case '--backend':
      case '--result-backend':
        a.backend = value();
        break;
      case '-l':
      case '--loglevel':
        a.loglevel = value().toLowerCase();
        break;
      case '-E':
      case '--task-events':
      case '--events':
        a.events = true;
        break;
      case '--prefetch-multiplier':
        a.prefetchMultiplier = Number(value());
        break;
      case '-P':
      case '--pool': {
        const p = value();
        const known = POOLS.find((x) => x === p);
        if (known === undefined)
          throw new Error(`--pool must be one of ${POOLS.join(', ')}, not ${p}`);
        a.pool = known;
        break;
      }
      case '--autoscale': {
        // `celery worker --autoscale=10,3` (max,min); a single number is max with min 0.
        const [mx = '', mn = '0'] = value().split(',');
        const max = positiveInt('--autoscale max', mx);
        const min = Number(mn);
        if (!Number.isInteger(min) || min < 0 || min > max)
          throw new Error('--autoscale must be MAX,MIN with 0 <= MIN <= MAX');
        a.autoscale = { max, min };
        break;
      }
      case '--max-tasks-per-child':
        a.maxTasksPerChild = positiveInt(flag, value());
        break;
      case '--max-memory-per-child':
        a.maxMemoryPerChild = positiveInt(flag, value());
        break;
      case '--without-control':
        a.control = false;
        break;
      case '--without-mingle':
      case '--without-gossip':
      case '--without-heartbeat':
        break;
      case '--visibility-timeout':
        a.visibilityTimeout = Number(value());
        break;
      case '--metrics-port':
        a.metricsPort = Number(value());
        break;
      case '--metrics-host':
        a.metricsHost = value();
        break;
      case '--celery-line': {
        const line = value();
        const known = CELERY_LINES.find((l) => l === line);
        if (known === undefined) {
          throw new Error(`--celery-line must be one of ${CELERY_LINES.join(', ')}, not ${line}`);
        }
        a.celeryLine = known;
        break;
      }
      default:
        throw new Error(`unknown option ${raw}`);
    }
  }
  if (!Number.isInteger(a.concurrency) || a.concurrency < 1)
    throw new Error('--concurrency must be a positive integer');
  return a;
}

/** What an app module may export. */
interface AppModule {
  tasks?: TaskDefinition[] | TaskRegistry;
  config?: Partial<CeleryConfig>;
  default?:
    | TaskDefinition[]
    | TaskRegistry
    | { tasks?: TaskDefinition[] | TaskRegistry; config?: Partial<CeleryConfig> };
}

/**
 * Load the app module: `.ts` through tsx's CommonJS register API (unless already running under
 * a TypeScript loader), `.js`/`.cjs` with `require`, `.mjs` with `import()`.
 */
export async function loadAppModule(
  path: string,
  opts: { requireTasks?: boolean } = {},
): Promise<{ tasks: TaskRegistry; config: Partial<CeleryConfig> }> {
  const full = resolve(path);
  if (!existsSync(full)) throw new Error(`app module not found: ${full}`);
  let mod: AppModule;
  if (full.endsWith('.mjs')) {
    mod = (await import(pathToFileURL(full).href)) as AppModule;
  } else {
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- the only probe for a TS loader
    if (/\.[cm]?ts$/.test(full) && !(require.extensions as Record<string, unknown>)['.ts']) {
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional, loaded on demand
        (require('tsx/cjs/api') as { register: () => unknown }).register();
      } catch (e) {
        throw new Error(
          `loading a .ts app needs the "tsx" package (npm install tsx): ${String(e)}`,
        );
      }
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- user module path at runtime
    mod = require(full) as AppModule;
  }
  const d = mod.default;
  const fromDefault = Array.isArray(d) || d instanceof TaskRegistry ? { tasks: d } : (d ?? {});
  const tasks = mod.tasks ?? fromDefault.tasks;
  // A worker needs tasks; beat and call only read the module's config.
  if (!tasks && opts.requireTasks !== false) {
    throw new Error(`${path} exports no tasks (export const tasks = [defineTask(…)])`);
  }
  return {
    tasks: tasks instanceof TaskRegistry ? tasks : new TaskRegistry(tasks ?? []),
    config: mod.config ?? ('config' in fromDefault ? (fromDefault.config ?? {}) : {}),
  };
}

/** Kept for callers of the old name; the app layer builds a worker's connections. */
export { workerConnections as connectionsFor } from '../app/worker-connections';

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

function loggerFor(level: string, io: CliIo): WorkerLogger {
  const min = LEVELS.indexOf(level === 'warning' ? 'warn' : (level as (typeof LEVELS)[number]));
  const out = new LineBuffer((text) => {
    io.stdout(text);
  });
  return {
    log: (lvl, msg) => {
      if (LEVELS.indexOf(lvl) < (min < 0 ? 1 : min)) return;
      const line = `[${new Date().toISOString()}: ${lvl.toUpperCase()}] ${msg}\n`;
      if (lvl === 'error' || lvl === 'warn') {
        out.flush();
        io.stderr(line);
      } else out.add(line);
    },
  };
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Exit codes of `celery worker` (`celery/platforms.py`: EX_OK, EX_FAILURE; usage: 2). */
const EX_OK = 0;
const EX_FAILURE = 1;
const EX_USAGE = 2;

/**
 * `celery-wire worker`: run a TypeScript worker until SIGTERM/SIGINT (warm shutdown: running
 * tasks finish, held messages go back) or SIGQUIT / a second signal (cold shutdown). Startup
 * errors are one line, never a stack trace; the broker connection is retried as
 * `broker_connection_retry_on_startup`. After the shutdown, `io.exit` ends the process.
 */
export async function workerCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const code = await runWorker(argv, io);
  if (io.exit) await io.exit(code);
  return code;
}

async function runWorker(argv: readonly string[], io: CliIo): Promise<number> {
  let args: WorkerArgs;
  try {
    args = parseWorkerArgs(argv);
    if (args.help === true) {
      io.stdout(USAGE);
      return EX_OK;
    }
    if (args.app === undefined) throw new Error('--app is required');
  } catch (e) {
    io.stderr(`celery-wire worker: ${errorText(e)}\n${USAGE}`);
    return EX_USAGE;
  }
  let app: Awaited<ReturnType<typeof loadAppModule>>;
  try {
    app = await loadAppModule(args.app);
  } catch (e) {
    io.stderr(`celery-wire worker: cannot load app ${args.app}: ${errorText(e)}\n`);
    return EX_FAILURE;
  }
  const logger = loggerFor(args.loglevel, io);
  // Tracing is a no-op until the process registers an OpenTelemetry SDK (docs/observability.md).
  const metrics = args.metricsPort === undefined ? undefined : prometheusInstrumentation();
  let metricsServer: MetricsServer | undefined;
  let worker: Worker;
  try {
    const config = resolveConfig(
      {
        ...app.config,
        ...(args.broker ? { brokerUrl: args.broker } : {}),
        ...(args.backend ? { resultBackend: args.backend } : {}),
        ...(args.prefetchMultiplier === undefined
          ? {}
          : { workerPrefetchMultiplier: args.prefetchMultiplier }),
        ...(args.celeryLine === undefined ? {} : { celeryLine: args.celeryLine }),
        ...(args.autoscale === undefined ? {} : { workerAutoscaler: args.autoscale }),
        ...(args.maxTasksPerChild === undefined
          ? {}
          : { workerMaxTasksPerChild: args.maxTasksPerChild }),
        ...(args.maxMemoryPerChild === undefined
          ? {}
          : { workerMaxMemoryPerChild: args.maxMemoryPerChild }),
      },
      process.env,
    );
    // The app is the composition root: it builds the worker's broker and backend.
    const instrumentation = [otelInstrumentation(), ...(metrics ? [metrics] : [])];
    worker = createApp({ ...config, env: {}, instrumentation }).worker({
      tasks: app.tasks,
      ...(args.visibilityTimeout === undefined
        ? {}
        : { visibilityTimeout: args.visibilityTimeout }),
      ...(args.queues ? { queues: args.queues } : {}),
      // With --autoscale the worker is sized for its max (`celery worker`: concurrency = max).
      concurrency: config.workerAutoscaler?.max ?? args.concurrency,
      hostname: args.hostname,
      // `-P` goes to the worker, as Celery passes it to `WorkController`: it is no setting, so
      // `inspect conf` does not list it (the app's own `workerPool` still applies without -P).
      ...(args.pool === undefined ? {} : { pool: args.pool }),
      // Pool threads load the app module themselves to find the handlers.
      appModule: resolve(args.app),
      sendEvents: args.events,
      enableControl: args.control,
      logger,
    });
  } catch (e) {
    io.stderr(`celery-wire worker: ${errorText(e)}\n`);
    return EX_FAILURE;
  }
  let exitCode = EX_OK;
  let signals = 0;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    const cold = signals > 1 || sig === 'SIGQUIT';
    // Celery: SIGTERM exits EX_OK, SIGINT and every cold shutdown EX_FAILURE.
    if (cold || sig === 'SIGINT') exitCode = EX_FAILURE;
    io.stdout(`\nworker: ${cold ? 'Cold' : 'Warm'} shutdown (MainProcess)\n`);
    worker.shutdown({ cold }).then(resolveDone, resolveDone);
  };
  const signalNames: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGQUIT'];
  for (const s of signalNames) process.on(s, onSignal);
  try {
    try {
      await worker.start();
    } catch (e) {
      if (signals > 0) {
        await done;
        return exitCode;
      }
      // `celery/worker/worker.py`, `WorkController.start`: critical, then exit EX_FAILURE.
      logger.log('error', `Unrecoverable error: ${errorText(e)}`);
      await worker.shutdown({ cold: true }).catch(() => undefined);
      return EX_FAILURE;
    }
    if (metrics && args.metricsPort !== undefined) {
      const w = worker;
      metrics.bindWorker({
        hostname: w.hostname,
        activeCount: () => w.state.active.size,
        isUp: () => !w.state.shuttingDown,
      });
      try {
        metricsServer = await serveMetrics(metrics.registry, args.metricsPort, args.metricsHost);
        const at = `${args.metricsHost ?? '0.0.0.0'}:${String(metricsServer.port)}`;
        logger.log('info', `metrics: serving http://${at}/metrics`);
      } catch (e) {
        // The worker keeps consuming: metrics are an add-on, never a reason to stop.
        logger.log(
          'error',
          `metrics: cannot listen on port ${String(args.metricsPort)}: ${errorText(e)}`,
        );
      }
    }
    void worker
      .whenShutdownRequested()
      .then(() => worker.shutdown().then(resolveDone, resolveDone));
    await done;
    return exitCode;
  } finally {
    await metricsServer?.close();
    for (const s of signalNames) process.off(s, onSignal);
  }
}
