import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { resolveConfig, type CeleryConfig, type CeleryLine } from '../../../src/config/config';
import { connectionsFor } from '../../../src/cli/worker';
import { tasks } from '../../../conformance/app/index';
import { Worker, type WorkerOptions } from '../../../src/worker/worker';

/** Repository root and the Python peer directory. */
export const ROOT = resolve(__dirname, '..', '..', '..');
export const PEERS = join(ROOT, 'python-peers');
export const REDIS_URL = process.env.WORKER_TEST_REDIS ?? 'redis://127.0.0.1:6379/0';
/**
 * A database of its own for tests that restore unacked messages with a tiny visibility timeout:
 * `restore_visible` restores *every* old entry of the db's `unacked` hash, so sharing db 0 would
 * redeliver other suites' in-flight messages.
 */
export const REDIS_RESTORE_URL =
  process.env.WORKER_TEST_REDIS_RESTORE ?? 'redis://127.0.0.1:6379/11';
export const AMQP_URL = process.env.WORKER_TEST_AMQP ?? 'amqp://guest:guest@127.0.0.1:5672//';

/** Python of a peer venv (`bash python-peers/bootstrap.sh`). */
export function python(line: CeleryLine = '5.7'): string {
  return join(PEERS, `.venv-${line}`, 'bin', 'python');
}

/** Environment for a Python peer process. */
export function peerEnv(o: {
  broker: string;
  backend: string;
  serializer?: string;
  protocol?: 1 | 2;
  extra?: Record<string, string>;
}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PYTHONPATH: PEERS,
    CELERY_BROKER_URL: o.broker,
    CELERY_RESULT_BACKEND: o.backend,
    CELERY_TASK_SERIALIZER: o.serializer ?? 'json',
    CELERY_RESULT_SERIALIZER: o.serializer ?? 'json',
    CELERY_TASK_PROTOCOL: String(o.protocol ?? 2),
    CELERY_SEND_EVENTS: '0',
    ...(o.extra ?? {}),
  };
}

/** Run `python -m <module>` (or a script) with JSON on stdin; parse the last stdout line. */
export function runPython<T>(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  input: unknown,
  line: CeleryLine = '5.7',
  timeoutMs = 60_000,
): Promise<T> {
  return new Promise((res, rej) => {
    const child = execFile(
      python(line),
      [...args],
      { cwd: PEERS, env, timeout: timeoutMs, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        if (err) {
          rej(new Error(`${args.join(' ')} failed: ${err.message}\n${stderr}`));
          return;
        }
        const last = stdout.trim().split('\n').pop() ?? '';
        try {
          res(JSON.parse(last) as T);
        } catch {
          rej(new Error(`unparsable output: ${stdout}\n${stderr}`));
        }
      },
    );
    child.stdin?.end(JSON.stringify(input));
  });
}

/** What `peer/worker_producer.py` reports per case. */
export interface PyOutcome {
  state: string;
  repr?: string;
  type?: string;
  exc_type?: string;
  exc_module?: string;
  exc_str?: string;
  children?: unknown[];
}

/** A case for `peer/worker_producer.py`. */
export interface PyCase {
  id: string;
  task: string;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  options?: Record<string, unknown>;
  no_wait?: boolean;
  /** Send `chain(*signatures)` (all to the queue) instead of one task. */
  chain?: { task: string; args?: unknown[] }[];
  /** Send `chord(header)(body)` (all to the queue). */
  chord?: { task: string; args?: unknown[] }[];
  body?: { task: string; args?: unknown[] };
  /** A `link` callback signature (to the queue). */
  link?: { task: string; args?: unknown[] };
  /** Do not send; only wait for the result of an earlier send. */
  get_only?: boolean;
}

/** Send cases from a real Python Celery producer and collect Python's view of the results. */
export function produce(
  env: NodeJS.ProcessEnv,
  queue: string,
  cases: readonly PyCase[],
  line: CeleryLine = '5.7',
  timeout = 10,
): Promise<Record<string, PyOutcome>> {
  return runPython(['-m', 'peer.worker_producer'], env, { queue, timeout, cases }, line);
}

/** A unique name for queues, ids and node names, so parallel suites never share them. */
export function uniq(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** An in-process TypeScript worker running the conformance catalogue. */
export async function startWorker(
  config: Partial<CeleryConfig>,
  opts: Partial<WorkerOptions> & { queues: string[] },
): Promise<Worker> {
  const cfg = resolveConfig({ acceptContent: ['json', 'msgpack', 'yaml'], ...config });
  const { broker, backend, transport } = connectionsFor(cfg);
  const w = new Worker({
    broker,
    backend,
    config: cfg,
    tasks,
    concurrency: 4,
    hostname: `${uniq('ts')}@%h`,
    transport,
    logger: { log: () => undefined },
    ...opts,
  });
  await w.start();
  return w;
}

/** The CLI worker as a child process (for crash tests); resolves once it logged "ready". */
export function spawnWorker(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
      join(ROOT, 'test', 'support', 'worker', 'int-cli.ts'),
      ...args,
    ],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((res, rej) => {
    let out = '';
    const onData = (b: Buffer): void => {
      out += b.toString();
      if (out.includes(' ready: ')) res(child);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.on('exit', (code) => {
      rej(new Error(`worker exited early (${String(code)}): ${out}`));
    });
  });
}

/** Wait for a child to exit; resolves with its exit code or signal. */
export function exited(child: ChildProcess): Promise<number | string> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  if (child.signalCode !== null) return Promise.resolve(child.signalCode);
  return new Promise((res) => {
    child.on('exit', (code, sig) => {
      res(code ?? sig ?? -1);
    });
  });
}
