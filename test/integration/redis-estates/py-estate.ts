import { execFile, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import {
  whenPythonWorkerReady,
  type PythonWorkerProcess,
} from '../../support/python-worker-process';

/** Drive `py_estate.py` (a real Celery app with estate settings) from tests. */
const ROOT = resolve(__dirname, '..', '..', '..');
const HERE = __dirname;

function env(line: string, broker: string, backend: string, settings: object): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PYTHONPATH: `${join(ROOT, 'python-peers')}:${HERE}`,
    CELERY_BROKER_URL: broker,
    CELERY_RESULT_BACKEND: backend,
    CW_ESTATE: JSON.stringify(settings),
    CW_LINE: line,
    PYTHONUNBUFFERED: '1',
  };
}

const py = (line: string): string => join(ROOT, 'python-peers', `.venv-${line}`, 'bin', 'python');

/** Send cases from Python; resolves with `{id: result}`. */
export function pySend(
  line: '5.7' | '5.2',
  broker: string,
  backend: string,
  settings: object,
  queue: string,
  cases: readonly { id: string; task: string; args?: unknown[]; priority?: number }[],
): Promise<Record<string, unknown>> {
  return new Promise((res, rej) => {
    const child = execFile(
      py(line),
      [join(HERE, 'py_estate.py')],
      { env: env(line, broker, backend, settings), timeout: 90_000 },
      (err, stdout, stderr) => {
        if (err) {
          rej(new Error(`py_estate failed: ${err.message}\n${stderr}`));
          return;
        }
        res(JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>);
      },
    );
    child.stdin?.end(JSON.stringify({ queue, cases }));
  });
}

/** PyWorker: a Python worker process (`python-worker-process.ts`). */
export type PyWorker = PythonWorkerProcess;

/** `celery -A py_estate worker -Q queue -P solo`, resolved once Celery logs "ready.". */
export function pyWorker(
  line: '5.7' | '5.2',
  broker: string,
  backend: string,
  settings: object,
  queue: string,
  nodename: string,
): Promise<PyWorker> {
  const child = spawn(
    py(line),
    ['-m', 'celery', '-A', 'py_estate', 'worker', '-Q', queue, '-n', nodename, '-P', 'solo'].concat(
      ['--without-gossip', '--without-mingle', '-l', 'info'],
    ),
    { env: env(line, broker, backend, settings), cwd: HERE, detached: true, stdio: 'pipe' },
  );
  return whenPythonWorkerReady(child);
}

/** Fire `gaps.record` tasks from Python (no waiting for results); resolves with the counts. */
export function pyFire(
  line: '5.7' | '5.2',
  broker: string,
  settings: object,
  req: { queue: string; run: string; fire: string[]; ms?: number; gap_ms?: number },
): Promise<{ sent: number; retries: number }> {
  return new Promise((res, rej) => {
    const child = execFile(
      py(line),
      [join(HERE, 'py_estate.py')],
      { env: env(line, broker, broker, settings), timeout: 120_000 },
      (err, stdout, stderr) => {
        if (err) {
          rej(new Error(`py_estate fire failed: ${err.message}\n${stderr}`));
          return;
        }
        res(
          JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { sent: number; retries: number },
        );
      },
    );
    child.stdin?.end(JSON.stringify(req));
  });
}

/** `celery -A py_estate inspect ping -d <node>` (Celery's own CLI); resolves with its stdout. */
export function pyInspectPing(
  line: '5.7' | '5.2',
  broker: string,
  settings: object,
  node: string,
): Promise<string> {
  return new Promise((res, rej) => {
    execFile(
      py(line),
      ['-m', 'celery', '-A', 'py_estate', 'inspect', 'ping', '-d', node, '-t', '5'],
      { env: env(line, broker, broker, settings), cwd: HERE, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err) rej(new Error(`inspect ping failed: ${err.message}\n${stdout}\n${stderr}`));
        else res(stdout);
      },
    );
  });
}
