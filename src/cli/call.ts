import { parseArgs } from 'node:util';
import { createApp, type CeleryApp } from '../app/app';
import type { ApplyOptions } from '../client/apply-options';
import {
  CeleryTimeoutError,
  TaskFailedError,
  TaskRevokedError,
  isCeleryError,
} from '../errors/errors';
import { pyJsonDumps, pyJsonLoads } from '../serialization/python-json';
import { isPyDict, type PyValue } from '../serialization/py-values';
import { CELERY_LINES, type CeleryConfig, type CeleryLine } from '../config/config';
import type { CliIo } from './io';

/** Used for both broker and backend when neither flags nor environment name one. */
export const CALL_DEFAULT_URL = 'redis://127.0.0.1:6379/0';

export const CALL_USAGE = `usage: celery-wire call TASK [options]

  -A, --app PATH       the app module \`worker -A\` takes; its \`config\` (brokerUrl,
                       resultBackend, brokerTransportOptions, brokerUseSsl, …) is used
  --args JSON          positional arguments, a JSON list (integers exact)
  --kwargs JSON        keyword arguments, a JSON object
  --queue NAME         destination queue (default: celery)
  --countdown SECONDS  run no earlier than SECONDS from now
  --eta ISO8601        run no earlier than this time
  --expires SECONDS|ISO8601
  --priority N
  --serializer json|msgpack|yaml
  --protocol 1|2
  --broker URL         default: the app config, $CELERY_BROKER_URL, else ${CALL_DEFAULT_URL}
  --backend URL        default: the app config, $CELERY_RESULT_BACKEND, else ${CALL_DEFAULT_URL}
  --broker-transport-options JSON   e.g. '{"global_keyprefix": "pfx:"}' (over the app's)
  --backend-transport-options JSON  result_backend_transport_options (over the app's)
  --celery-line 5.7|5.2|4.4         header profile of the cluster (default: app config, 5.7)
  --timeout SECONDS    give up waiting (exit 3)
  --no-wait            print the task id and exit
  -h, --help           this text

exit status: 0 ok, 1 task failed/revoked, 2 usage, 3 timeout, 4 other error
`;

class UsageError extends Error {}

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name}: not a number: ${v}`);
  return n;
}

function json(name: string, v: string | undefined): PyValue | undefined {
  if (v === undefined) return undefined;
  try {
    return pyJsonLoads(v);
  } catch (e) {
    throw new UsageError(`--${name}: invalid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Parse argv into the task name, apply options and CLI settings. */
export function parseCallArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): {
  task: string;
  apply: ApplyOptions;
  /** From flags or environment; `undefined` leaves it to the app config, then the default. */
  broker: string | undefined;
  backend: string | undefined;
  timeout: number | undefined;
  wait: boolean;
  app: string | undefined;
  settings: Partial<CeleryConfig>;
  help: boolean;
} {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      args: { type: 'string' },
      kwargs: { type: 'string' },
      queue: { type: 'string' },
      countdown: { type: 'string' },
      eta: { type: 'string' },
      expires: { type: 'string' },
      priority: { type: 'string' },
      serializer: { type: 'string' },
      protocol: { type: 'string' },
      broker: { type: 'string' },
      backend: { type: 'string' },
      timeout: { type: 'string' },
      'no-wait': { type: 'boolean' },
      app: { type: 'string', short: 'A' },
      'broker-transport-options': { type: 'string' },
      'backend-transport-options': { type: 'string' },
      'celery-line': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const settings: Partial<CeleryConfig> = {};
  const bto = dictFlag('broker-transport-options', values['broker-transport-options']);
  if (bto) settings.brokerTransportOptions = bto;
  const rto = dictFlag('backend-transport-options', values['backend-transport-options']);
  if (rto) settings.resultBackendTransportOptions = rto;
  const line = values['celery-line'];
  if (line !== undefined) {
    const lines: readonly string[] = CELERY_LINES;
    if (!lines.includes(line)) {
      throw new UsageError(`--celery-line must be one of ${CELERY_LINES.join(', ')}`);
    }
    settings.celeryLine = line as CeleryLine;
  }
  const [task, ...extra] = positionals;
  if (values.help === true) {
    return {
      task: task ?? '',
      apply: {},
      broker: undefined,
      backend: undefined,
      timeout: undefined,
      wait: true,
      app: values.app,
      settings,
      help: true,
    };
  }
  if (task === undefined || extra.length > 0) throw new UsageError('exactly one TASK is required');
  const apply: ApplyOptions = {};
  const args = json('args', values.args);
  if (args !== undefined) {
    if (!Array.isArray(args)) throw new UsageError('--args must be a JSON list');
    apply.args = args as PyValue[];
  }
  const kwargs = json('kwargs', values.kwargs);
  if (kwargs !== undefined) {
    if (!isPyDict(kwargs)) throw new UsageError('--kwargs must be a JSON object');
    apply.kwargs = kwargs;
  }
  if (values.queue !== undefined) apply.queue = values.queue;
  const countdown = num('countdown', values.countdown);
  if (countdown !== undefined) apply.countdown = countdown;
  if (values.eta !== undefined) apply.eta = values.eta;
  if (values.expires !== undefined) {
    const n = Number(values.expires);
    apply.expires = values.expires.trim() !== '' && Number.isFinite(n) ? n : values.expires;
  }
  const priority = num('priority', values.priority);
  if (priority !== undefined) {
    if (!Number.isInteger(priority) || priority < 0 || priority > 255)
      throw new UsageError('--priority must be an integer 0..255');
    apply.priority = priority;
  }
  if (values.serializer !== undefined) {
    if (!['json', 'msgpack', 'yaml'].includes(values.serializer))
      throw new UsageError('--serializer must be json, msgpack or yaml');
    apply.serializer = values.serializer;
  }
  if (values.protocol !== undefined) {
    if (values.protocol !== '1' && values.protocol !== '2')
      throw new UsageError('--protocol must be 1 or 2');
    apply.protocol = values.protocol === '1' ? 1 : 2;
  }
  const wait = values['no-wait'] !== true;
  if (!wait) apply.ignoreResult = true;
  return {
    task,
    apply,
    broker: values.broker ?? nonEmpty(env.CELERY_BROKER_URL),
    backend: values.backend ?? nonEmpty(env.CELERY_RESULT_BACKEND),
    timeout: num('timeout', values.timeout),
    wait,
    app: values.app,
    settings,
    help: false,
  };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

/** A JSON object flag, kept as plain JS values (transport options are not wire data). */
function dictFlag(name: string, v: string | undefined): Record<string, unknown> | undefined {
  if (v === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch (e) {
    throw new UsageError(`--${name}: invalid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new UsageError(`--${name} must be a JSON object`);
  return parsed as Record<string, unknown>;
}

/**
 * The app module's `config`, loaded by the same loader as `worker -A` (`src/cli/worker.ts`,
 * `loadAppModule`), so both commands read one module the same way.
 */
async function appConfig(path: string | undefined): Promise<Partial<CeleryConfig>> {
  if (path === undefined) return {};
  const { loadAppModule } = await import('./worker.js');
  return (await loadAppModule(path)).config;
}

/**
 * `celery-wire call TASK`: send a task like `celery call` and, unless `--no-wait`, print its
 * result as Python JSON (exact integers). Failures print `ExcType: message` on stderr.
 */
export async function callCommand(
  argv: readonly string[],
  io: CliIo,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  let parsed: ReturnType<typeof parseCallArgs>;
  try {
    parsed = parseCallArgs(argv, env);
  } catch (e) {
    io.stderr(`celery-wire call: ${e instanceof Error ? e.message : String(e)}\n${CALL_USAGE}`);
    return 2;
  }
  if (parsed.help) {
    io.stdout(CALL_USAGE);
    return 0;
  }
  let config: Partial<CeleryConfig>;
  try {
    config = await appConfig(parsed.app);
  } catch (e) {
    io.stderr(
      `celery-wire call: cannot load app ${parsed.app ?? ''}: ${e instanceof Error ? e.message : String(e)}\n`,
    );
    return 4;
  }
  let app: CeleryApp | undefined;
  try {
    const backend = parsed.backend ?? config.resultBackend ?? CALL_DEFAULT_URL;
    app = createApp({
      resultAcceptContent: ['json', 'msgpack', 'yaml'],
      ...config,
      ...parsed.settings,
      // Dict settings: the flag's keys over the app's (Celery merges `-o`-style overrides too).
      brokerTransportOptions: {
        ...config.brokerTransportOptions,
        ...parsed.settings.brokerTransportOptions,
      },
      resultBackendTransportOptions: {
        ...config.resultBackendTransportOptions,
        ...parsed.settings.resultBackendTransportOptions,
      },
      env: {},
      brokerUrl: parsed.broker ?? config.brokerUrl ?? CALL_DEFAULT_URL,
      resultBackend: parsed.wait ? backend : 'disabled',
    });
    const result = await app.sendTask(parsed.task, parsed.apply);
    if (!parsed.wait) {
      io.stdout(`${result.id}\n`);
      return 0;
    }
    const value = await result.get(parsed.timeout === undefined ? {} : { timeout: parsed.timeout });
    io.stdout(`${pyJsonDumps(value)}\n`);
    return 0;
  } catch (e) {
    if (e instanceof TaskFailedError || e instanceof TaskRevokedError) {
      io.stderr(
        `${e instanceof TaskRevokedError ? `TaskRevokedError: ${e.message}` : e.message}\n`,
      );
      return 1;
    }
    if (e instanceof CeleryTimeoutError) {
      io.stderr(`TimeoutError: ${e.message}\n`);
      return 3;
    }
    io.stderr(
      `celery-wire call: ${isCeleryError(e) ? `${e.name}: ` : ''}${e instanceof Error ? e.message : String(e)}\n`,
    );
    return 4;
  } finally {
    await app?.close().catch(() => undefined);
  }
}
