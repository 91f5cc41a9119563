import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startPythonWorker, type PythonWorker } from '../../../src/client/testing/python-worker';
import type { Transport } from './run-node-to-python';

const ROOT = resolve(__dirname, '..', '..', '..');

/** A running worker of either language. */
export interface PeerWorker {
  log(): string;
  stop(): Promise<void>;
}

/** A real Celery worker (python-peers/worker.sh) of the given line on one queue. */
export function startPython(
  line: '5.7' | '5.2',
  t: Transport,
  queue: string,
): Promise<PythonWorker> {
  return startPythonWorker({
    line,
    brokerUrl: t.brokerUrl,
    resultBackend: t.resultBackend,
    queues: queue,
    nodename: `py-${queue}@%h`,
  });
}

/**
 * celery-wire's own worker, started the way a user would: the built CLI with the TypeScript
 * conformance catalogue (`celery-wire worker --app … -Q …`).
 */
export function startNode(line: '5.7' | '5.2', t: Transport, queue: string): Promise<PeerWorker> {
  const app = join(ROOT, 'dist', 'conformance-app', 'index.js');
  if (!existsSync(app)) throw new Error(`${app} missing: run \`npm run build\` first`);
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'bin', 'celery-wire.js'),
      'worker',
      '--app',
      app,
      '-Q',
      queue,
      '-n',
      `ts-${queue}@%h`,
      '-c',
      '8',
      '--broker',
      t.brokerUrl,
      '--backend',
      t.resultBackend,
      '--celery-line',
      line,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } },
  );
  let out = '';
  let exited = false;
  const exit = new Promise<void>((res) => {
    child.on('exit', () => {
      exited = true;
      res();
    });
  });
  const stop = async (): Promise<void> => {
    if (exited) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => {
      child.kill('SIGKILL');
    }, 8000);
    await exit;
    clearTimeout(t);
  };
  return new Promise((res, rej) => {
    const timer = setTimeout(
      () =>
        void stop().then(() => {
          rej(new Error(`ts worker not ready:\n${out}`));
        }),
      30_000,
    );
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
      rej(new Error(`ts worker exited:\n${out}`));
    });
  });
}
