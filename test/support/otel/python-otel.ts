import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

/** Test support: the instrumented Python peer `python-peers/peer/otel_peer.py`. */
const PEERS = resolve(__dirname, '../../../python-peers');
const PY = join(PEERS, '.venv-otel', 'bin', 'python');
const run = promisify(execFile);

/** One span as the peer's JSON-lines exporter writes it. */
export interface PySpan {
  name: string;
  kind: string;
  trace_id: string;
  span_id: string;
  parent_id: string | null;
  status: string;
  attributes: Record<string, unknown>;
  links: string[];
}

export interface PeerEnv {
  brokerUrl: string;
  backendUrl: string;
  pyQueue: string;
  tsQueue: string;
  spansFile: string;
}

function env(o: PeerEnv): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PYTHONPATH: PEERS,
    CELERY_BROKER_URL: o.brokerUrl,
    CELERY_RESULT_BACKEND: o.backendUrl,
    PY_QUEUE: o.pyQueue,
    TS_QUEUE: o.tsQueue,
    OTEL_SPANS_FILE: o.spansFile,
  };
}

/** Build `.venv-otel` (idempotent). */
export async function bootstrapOtelVenv(): Promise<void> {
  await run('bash', [join(PEERS, 'bootstrap-extra.sh'), 'otel'], { maxBuffer: 1 << 24 });
}

/** Spans the peer exported so far. */
export function readPySpans(file: string): PySpan[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as PySpan);
}

/** `otel_peer produce TASK`: a root span around `TASK.apply_async((2, 3))`, waits for the result. */
export async function pyProduce(
  o: PeerEnv,
  task: string,
): Promise<{ trace_id: string; root_id: string; task_id: string; result: unknown }> {
  const { stdout } = await run(PY, ['-m', 'peer.otel_peer', 'produce', task], {
    cwd: PEERS,
    env: env(o),
    timeout: 90_000,
  });
  const last = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as {
    trace_id: string;
    root_id: string;
    task_id: string;
    result: unknown;
  };
}

/** The instrumented Celery 5.7 worker on `pyQueue` (solo pool). */
export async function startPyOtelWorker(
  o: PeerEnv,
): Promise<{ stop(): Promise<void>; log(): string }> {
  const child: ChildProcess = spawn(PY, ['-m', 'peer.otel_peer', 'worker'], {
    cwd: PEERS,
    env: env(o),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
    process.kill(-child.pid, 'SIGTERM');
    const t = setTimeout(() => {
      if (!exited && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, 5000);
    await exit;
    clearTimeout(t);
  };
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => {
      void stop().then(() => {
        rej(new Error(`otel peer worker not ready:\n${out}`));
      });
    }, 60_000);
    const onData = (b: Buffer): void => {
      out += b.toString('utf8');
      if (/\bready\.\s*$/m.test(out)) {
        clearTimeout(timer);
        res();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exit.then(() => {
      clearTimeout(timer);
      rej(new Error(`otel peer worker exited:\n${out}`));
    });
  });
  return { stop, log: () => out };
}
