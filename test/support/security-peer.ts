import { execFile, execFileSync, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { whenPythonWorkerReady, type PythonWorkerProcess } from './python-worker-process';

/**
 * Drive `test/integration/security/security_app.py` (a real Celery app that called
 * `app.setup_security()`) from tests, in `python-peers/.venv-<line>-security`.
 */
const ROOT = resolve(__dirname, '..', '..');
const APP_DIR = join(ROOT, 'test', 'integration', 'security');

export type SecurityLine = '5.7' | '5.2';

/** Build (once) and return the security venv's python (`bootstrap-security.sh <line>`). */
export function securityPython(line: SecurityLine): string {
  return execFileSync('bash', [join(ROOT, 'python-peers', 'bootstrap-security.sh'), line], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

function env(broker: string, backend: string, settings: object): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PYTHONPATH: `${join(ROOT, 'python-peers')}:${APP_DIR}`,
    CELERY_BROKER_URL: broker,
    CELERY_RESULT_BACKEND: backend,
    CW_SECURITY: JSON.stringify(settings),
    PYTHONUNBUFFERED: '1',
  };
}

/** Send cases (or, with `get`, read stored results) from the signing Python app: `{id: result | {error}}`. */
export function pySecureSend(
  py: string,
  broker: string,
  backend: string,
  settings: object,
  queue: string,
  cases: readonly { id: string; task?: string; get?: string; args?: unknown[]; timeout?: number }[],
): Promise<Record<string, unknown>> {
  return new Promise((res, rej) => {
    const child = execFile(
      py,
      [join(APP_DIR, 'security_app.py')],
      { env: env(broker, backend, settings), timeout: 90_000 },
      (err, stdout, stderr) => {
        if (err) {
          rej(new Error(`security_app failed: ${err.message}\n${stderr}`));
          return;
        }
        res(JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>);
      },
    );
    child.stdin?.end(JSON.stringify({ queue, cases }));
  });
}

/** SecurePyWorker: a Python worker process (`python-worker-process.ts`). */
export type SecurePyWorker = PythonWorkerProcess;

/** `celery -A security_app worker -Q queue -P solo`, resolved once Celery logs "ready.". */
export function pySecureWorker(
  py: string,
  broker: string,
  backend: string,
  settings: object,
  queue: string,
  nodename: string,
): Promise<SecurePyWorker> {
  const args = ['-m', 'celery', '-A', 'security_app', 'worker', '-Q', queue, '-n', nodename];
  const child = spawn(
    py,
    [...args, '-P', 'solo', '--without-gossip', '--without-mingle', '-l', 'info'],
    {
      env: env(broker, backend, settings),
      cwd: APP_DIR,
      detached: true,
      stdio: 'pipe',
    },
  );
  return whenPythonWorkerReady(child);
}
