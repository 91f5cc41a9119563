import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { startPythonWorker, type PythonWorker } from '../../src/client/testing/python-worker';

/**
 * The README's examples, run exactly as documented against real Celery (Redis db 0 defaults,
 * as the examples use): Node calls Python, Python calls Node.
 */
const root = resolve(__dirname, '..', '..');
const run = promisify(execFile);
const REDIS = 'redis://127.0.0.1:6379/0';

describe('README example: Node calls Python', () => {
  let py: PythonWorker | undefined;
  beforeAll(async () => {
    py = await startPythonWorker({
      line: '5.7',
      brokerUrl: REDIS,
      resultBackend: REDIS,
      queues: 'py',
    });
  });
  afterAll(async () => {
    await py?.stop();
  });

  it('npx tsx examples/node-calls-python.ts', async () => {
    const { stdout } = await run('npx', ['tsx', 'examples/node-calls-python.ts'], {
      cwd: root,
      env: { ...process.env, CELERY_BROKER_URL: REDIS, CELERY_RESULT_BACKEND: REDIS },
    });
    expect(stdout).toContain('add(2**70, 1) = 1180591620717411303425');
    expect(stdout).toMatch(/echo = .*héllo ☃/s);
    expect(stdout).toContain('fail → ValueError: nope (builtins.ValueError)');
  });
});

describe('README example: Python calls Node', () => {
  let worker: ChildProcess | undefined;
  let log = '';
  beforeAll(async () => {
    worker = spawn(
      'npx',
      ['celery-wire', 'worker', '--app', 'examples/python-calls-node.ts', '-Q', 'node', '-E'],
      {
        cwd: root,
        detached: true,
        env: { ...process.env, CELERY_BROKER_URL: REDIS, CELERY_RESULT_BACKEND: REDIS },
      },
    );
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => {
        rej(new Error(`worker not ready:\n${log}`));
      }, 30_000);
      const onData = (d: Buffer): void => {
        log += d.toString();
        if (/\bready[:.]/.test(log)) {
          clearTimeout(t);
          res();
        }
      };
      worker?.stdout?.on('data', onData);
      worker?.stderr?.on('data', onData);
    });
  });
  afterAll(async () => {
    if (worker?.pid === undefined) return;
    const exited = new Promise((r) => worker?.on('exit', r));
    process.kill(-worker.pid, 'SIGTERM');
    await exited;
  });

  it('python examples/python-calls-node.py', async () => {
    const py = join(root, 'python-peers', '.venv-5.7', 'bin', 'python');
    const { stdout } = await run(py, ['examples/python-calls-node.py'], {
      cwd: root,
      env: { ...process.env, CELERY_BROKER_URL: REDIS, CELERY_RESULT_BACKEND: REDIS },
    });
    expect(stdout).toContain('Hello, Ada!');
    expect(stdout).toContain('Hello, Bob?');
    expect(stdout).toContain('ValueError: negative: -1');
    expect(stdout).toMatch(/'attempts': 2/);
    expect(stdout).toMatch(/'ok': 'pong'/);
  });
});

describe('README example: a chain that crosses languages', () => {
  let py: PythonWorker | undefined;
  let ts: ChildProcess | undefined;
  let log = '';
  const env = { ...process.env, CELERY_BROKER_URL: REDIS, CELERY_RESULT_BACKEND: REDIS };
  beforeAll(async () => {
    const node = spawn(
      'npx',
      ['celery-wire', 'worker', '--app', 'dist/conformance-app/index.js', '-Q', 'ts'],
      { cwd: root, detached: true, env },
    );
    ts = node;
    const ready = new Promise<void>((res, rej) => {
      const t = setTimeout(() => {
        rej(new Error(`worker not ready:\n${log}`));
      }, 30_000);
      const onData = (d: Buffer): void => {
        log += d.toString();
        if (/\bready[:.]/.test(log)) {
          clearTimeout(t);
          res();
        }
      };
      node.stdout.on('data', onData);
      node.stderr.on('data', onData);
    });
    [py] = await Promise.all([
      startPythonWorker({ line: '5.7', brokerUrl: REDIS, resultBackend: REDIS, queues: 'py' }),
      ready,
    ]);
  });
  afterAll(async () => {
    await py?.stop();
    if (ts?.pid === undefined) return;
    const exited = new Promise((r) => ts?.on('exit', r));
    process.kill(-ts.pid, 'SIGTERM');
    await exited;
  });

  it('npx tsx examples/mixed-chain.ts', async () => {
    const { stdout } = await run('npx', ['tsx', 'examples/mixed-chain.ts'], { cwd: root, env });
    expect(stdout).toContain('chain result = 21');
    expect(stdout).toContain('chord result = 16');
  });

  it('python examples/mixed-chain.py', async () => {
    const python = join(root, 'python-peers', '.venv-5.7', 'bin', 'python');
    const { stdout } = await run(python, ['examples/mixed-chain.py'], { cwd: root, env });
    expect(stdout).toContain('chain result = 21');
    expect(stdout).toContain('parent = 20 (computed by Node)');
  });
});
