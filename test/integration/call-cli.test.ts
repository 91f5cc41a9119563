import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { startPythonWorker, type PythonWorker } from '../support/client/python-worker';

/** `celery-wire call` (the built binary) against a real Celery 5.7 worker. */
const root = resolve(__dirname, '..', '..');
const REDIS = 'redis://127.0.0.1:6379/8';
const queue = `cw-call-${randomUUID().slice(0, 8)}`;

function call(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((res) => {
    execFile(
      process.execPath,
      [join(root, 'bin', 'celery-wire.js'), 'call', ...args],
      {
        cwd: root,
        env: { ...process.env, CELERY_BROKER_URL: REDIS, CELERY_RESULT_BACKEND: REDIS },
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        res({ code, out: stdout, err: stderr });
      },
    );
  });
}

describe('celery-wire call', () => {
  let py: PythonWorker | undefined;
  beforeAll(async () => {
    py = await startPythonWorker({
      line: '5.7',
      brokerUrl: REDIS,
      resultBackend: REDIS,
      queues: queue,
    });
  });
  afterAll(async () => {
    await py?.stop();
  });

  it('prints the result as JSON with exact integers', async () => {
    const r = await call([
      'conformance.add',
      '--args',
      '[1180591620717411303424, 1]',
      '--queue',
      queue,
    ]);
    expect(r).toEqual({ code: 0, out: '1180591620717411303425\n', err: '' });
  });

  it('sends msgpack, protocol 1 and kwargs', async () => {
    const r = await call([
      'conformance.echo',
      '--args',
      '[1.0, "x"]',
      '--kwargs',
      '{"k": null}',
      '--serializer',
      'msgpack',
      '--protocol',
      '1',
      '--queue',
      queue,
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toBe('{"args": [1.0, "x"], "kwargs": {"k": null}}\n');
  });

  it('a failed task: exit 1 and "ExcType: message" on stderr', async () => {
    const r = await call([
      'conformance.fail',
      '--kwargs',
      '{"exc_type": "ValueError", "message": "nope"}',
      '--queue',
      queue,
    ]);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err.trim()).toBe('ValueError: nope');
  });

  it('timeout: exit 3', async () => {
    const r = await call([
      'conformance.sleep',
      '--args',
      '[3]',
      '--queue',
      queue,
      '--timeout',
      '0.5',
    ]);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/TimeoutError/);
  });

  it('--no-wait prints the task id', async () => {
    const r = await call(['conformance.add', '--args', '[1, 1]', '--queue', queue, '--no-wait']);
    expect(r.code).toBe(0);
    expect(r.out.trim()).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('bad usage: exit 2', async () => {
    const r = await call(['conformance.add', '--args', 'not json']);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n').length).toBeGreaterThanOrEqual(1);
  });
});
