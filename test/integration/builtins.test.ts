import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { startNodeWorker, type NodeWorkerProcess } from '../support/node-worker';

/**
 * Celery's built-in canvas tasks (`celery.map`, `celery.starmap`, and the starmap groups that
 * `chunks` sends) sent by real Python Celery to celery-wire's worker.
 */
const root = resolve(__dirname, '..', '..');
const run = promisify(execFile);
const URL = 'redis://127.0.0.1:6379/5';
const queue = `cw-builtins-${randomUUID().slice(0, 8)}`;
const env = { ...process.env, CELERY_BROKER_URL: URL, CELERY_RESULT_BACKEND: URL };

describe.each(['5.7', '5.2'] as const)('built-in canvas tasks from Celery %s', (line) => {
  let worker: NodeWorkerProcess | undefined;
  beforeAll(async () => {
    worker = await startNodeWorker({
      args: ['--app', 'conformance/app/index.ts', '-Q', queue, '-n', `${queue}-${line}@%h`].concat([
        '--celery-line',
        line,
      ]),
      env,
    });
  });
  afterAll(async () => {
    await worker?.stop();
  });

  it('xmap, xstarmap and chunks come back as Python computes them', async () => {
    const script = [
      'from celery.canvas import xmap, xstarmap, chunks',
      'from peer.app import app',
      "add = app.signature('conformance.add'); ident = app.signature('conformance.identity')",
      `q = '${queue}'`,
      'print(xstarmap(add, [(1, 2), (3, 4)]).apply_async(queue=q).get(timeout=20))',
      "print(xmap(ident, [1, 'a', None]).apply_async(queue=q).get(timeout=20))",
      'print(chunks(add, [(i, i) for i in range(4)], 2).apply_async(queue=q).get(timeout=20))',
    ].join('\n');
    const py = join(root, 'python-peers', `.venv-${line}`, 'bin', 'python');
    const { stdout } = await run(py, ['-c', script], { cwd: join(root, 'python-peers'), env });
    expect(stdout.trim().split('\n')).toEqual(['[3, 7]', "[1, 'a', None]", '[[0, 2], [4, 6]]']);
  });
});
