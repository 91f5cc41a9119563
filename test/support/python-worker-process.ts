import type { ChildProcessWithoutNullStreams } from 'node:child_process';

/** A Python Celery worker process started by a test. */
export interface PythonWorkerProcess {
  log(): string;
  /** SIGTERM to the process group, SIGKILL after 5 s; resolves on exit. */
  stop(): Promise<void>;
  child: ChildProcessWithoutNullStreams;
}

/**
 * Resolves once the worker (spawned `detached`, so it leads its process group) logs Celery's
 * `ready.`; rejects, with its output, if it exits first or is not ready within 60 s.
 */
export function whenPythonWorkerReady(
  child: ChildProcessWithoutNullStreams,
): Promise<PythonWorkerProcess> {
  let out = '';
  const exit = new Promise<void>((r) =>
    child.on('exit', () => {
      r();
    }),
  );
  const kill = (sig: NodeJS.Signals): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, sig);
    } catch {
      /* gone */
    }
  };
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    kill('SIGTERM');
    const t = setTimeout(() => {
      kill('SIGKILL');
    }, 5000);
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
      out += b.toString();
      if (out.includes('ready.')) {
        clearTimeout(timer);
        res({ log: () => out, stop, child });
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
