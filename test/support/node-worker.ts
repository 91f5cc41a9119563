import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

/** A running `celery-wire worker` child process (test support). */
export interface NodeWorkerProcess {
  /** Everything the worker printed so far. */
  log(): string;
  /** SIGTERM (warm shutdown), SIGKILL after 8 s; idempotent. */
  stop(): Promise<void>;
}

const ROOT = resolve(__dirname, '..', '..');

/**
 * Start celery-wire's worker the way a user does, `<command> worker …` (by default the built
 * binary `node bin/celery-wire.js`; `['npx', 'celery-wire']` runs it as the README shows), and
 * resolve once it logs that it is ready.
 */
export function startNodeWorker(o: {
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  command?: readonly string[];
  readyTimeoutMs?: number;
}): Promise<NodeWorkerProcess> {
  const [cmd, ...pre] = o.command ?? [process.execPath, resolve(ROOT, 'bin', 'celery-wire.js')];
  const child = spawn(cmd ?? process.execPath, [...pre, 'worker', ...o.args], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: o.env ?? process.env,
  });
  let out = '';
  let exited = false;
  const exit = new Promise<void>((res) => {
    child.on('exit', () => {
      exited = true;
      res();
    });
  });
  const signal = (sig: NodeJS.Signals): void => {
    try {
      // The whole group: `npx` forks the node process that actually runs the worker.
      if (child.pid !== undefined) process.kill(-child.pid, sig);
    } catch {
      /* already gone */
    }
  };
  const stop = async (): Promise<void> => {
    if (exited) return;
    signal('SIGTERM');
    const t = setTimeout(() => {
      signal('SIGKILL');
    }, 8000);
    await exit;
    clearTimeout(t);
  };
  return new Promise((res, rej) => {
    const timer = setTimeout(() => {
      void stop().then(() => {
        rej(new Error(`celery-wire worker not ready:\n${out}`));
      });
    }, o.readyTimeoutMs ?? 30_000);
    const onData = (b: Buffer): void => {
      out += b.toString();
      if (/\bready[:.]/.test(out)) {
        clearTimeout(timer);
        res({ log: () => out, stop });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exit.then(() => {
      clearTimeout(timer);
      rej(new Error(`celery-wire worker exited:\n${out}`));
    });
  });
}
