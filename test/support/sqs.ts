import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';

/** Test support for the SQS suites: a private moto server and the `kombu[sqs]` peer venvs. */

const ROOT = resolve(__dirname, '..', '..');
const PEERS = join(ROOT, 'python-peers');
const SCRIPT = join(ROOT, 'scripts', 'sqs-server.sh');

/** The redis result backend of the SQS suites (db 10 is theirs). */
export const SQS_RESULTS = process.env.SQS_TEST_REDIS ?? 'redis://127.0.0.1:6379/10';

export interface SqsServer {
  readonly port: number;
  /** A kombu broker URL for it: credentials in the URL, endpoint `http://127.0.0.1:<port>`. */
  readonly brokerUrl: string;
  stop(): Promise<void>;
}

function run(args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((res, rej) => {
    execFile('bash', [SCRIPT, ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) rej(new Error(`sqs-server.sh ${args.join(' ')}: ${err.message}\n${stderr}`));
      else res(stdout.trim());
    });
  });
}

/**
 * Build the pinned SQS venvs if needed (`python-peers/bootstrap-sqs.sh`, a no-op when current),
 * then `scripts/sqs-server.sh start` (moto on a free 127.0.0.1 port).
 */
export async function startSqsServer(): Promise<SqsServer> {
  await new Promise<void>((res, rej) => {
    execFile('bash', [join(PEERS, 'bootstrap-sqs.sh')], { timeout: 600_000 }, (err, _o, stderr) => {
      if (err) rej(new Error(`bootstrap-sqs.sh: ${err.message}\n${stderr}`));
      else res();
    });
  });
  const port = Number(await run(['start'], 300_000));
  return {
    port,
    brokerUrl: `sqs://testkey:testsecret@127.0.0.1:${String(port)}`,
    stop: () => run(['stop', String(port)], 30_000).then(() => undefined),
  };
}

export type Line = '5.7' | '5.2';

/** Python of the `kombu[sqs]` venv of a line (`python-peers/bootstrap-sqs.sh`). */
export function sqsPython(line: Line): string {
  return join(PEERS, `.venv-${line}-sqs`, 'bin', 'python');
}

/** Environment of a Python peer or celery-wire process on SQS. */
export function sqsEnv(
  brokerUrl: string,
  transportOptions: Record<string, unknown>,
  extra: Record<string, string> = {},
): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PYTHONPATH: PEERS,
    CELERY_BROKER_URL: brokerUrl,
    CELERY_RESULT_BACKEND: SQS_RESULTS,
    CONFORMANCE_REDIS_URL: SQS_RESULTS,
    CELERY_BROKER_TRANSPORT_OPTIONS: JSON.stringify(transportOptions),
    CELERY_SEND_EVENTS: '0',
    // The AWS SDK's Node-version notice is not the worker's output.
    NODE_NO_WARNINGS: '1',
    ...extra,
  };
}

/** Run a peer module with JSON on stdin; the last stdout line parsed as JSON. */
export function runSqsPython<T>(
  line: Line,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  input: unknown,
  timeoutMs = 120_000,
): Promise<T> {
  return new Promise((res, rej) => {
    const child = execFile(
      sqsPython(line),
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

/** A real Celery worker on SQS (own process group). */
export interface SqsPythonWorker {
  readonly process: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

/** `celery -A peer.app worker` from the line's `kombu[sqs]` venv; resolves on "ready.". */
export function startSqsPythonWorker(
  line: Line,
  env: NodeJS.ProcessEnv,
  queue: string,
  extra: readonly string[] = [],
): Promise<SqsPythonWorker> {
  const child = spawn(
    sqsPython(line),
    [
      '-m',
      'celery',
      '-A',
      'peer.app',
      'worker',
      '-Q',
      queue,
      '-n',
      `py-${queue}@%h`,
      '--without-gossip',
      '--without-mingle',
      '-l',
      'info',
      '-P',
      'solo',
      ...extra,
    ],
    { cwd: PEERS, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let exited = false;
  const exit = new Promise<void>((r) => {
    child.on('exit', () => {
      exited = true;
      r();
    });
  });
  const stop = async (): Promise<void> => {
    if (exited || child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      return;
    }
    const t = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, 15_000);
    await exit;
    clearTimeout(t);
  };
  return new Promise((res, rej) => {
    const timer = setTimeout(() => {
      void stop().then(() => {
        rej(new Error(`python worker not ready:\n${out}`));
      });
    }, 60_000);
    const onData = (b: Buffer): void => {
      out += b.toString('utf8');
      if (/\bready\.\s*$/m.test(out)) {
        clearTimeout(timer);
        res({ process: child, log: () => out, stop });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exit.then(() => {
      clearTimeout(timer);
      rej(new Error(`python worker exited:\n${out}`));
    });
  });
}
