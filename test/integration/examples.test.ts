import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { startPythonWorker, type PythonWorker } from '../support/client/python-worker';
import { startNodeWorker, type NodeWorkerProcess } from '../support/node-worker';

/**
 * The README's examples, run exactly as documented against real Celery (Redis db 0 defaults,
 * as the examples use): Node calls Python, Python calls Node, and a chain across both.
 */
const root = resolve(__dirname, '..', '..');
const run = promisify(execFile);
const REDIS = 'redis://127.0.0.1:6379/0';
const env = { ...process.env, CELERY_BROKER_URL: REDIS, CELERY_RESULT_BACKEND: REDIS };
const python = join(root, 'python-peers', '.venv-5.7', 'bin', 'python');
const npxCeleryWire = ['npx', 'celery-wire'];

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
      env,
    });
    expect(stdout).toContain('add(2**70, 1) = 1180591620717411303425');
    expect(stdout).toMatch(/echo = .*héllo ☃/s);
    expect(stdout).toContain('fail → ValueError: nope (builtins.ValueError)');
  });
});

describe('README example: Python calls Node', () => {
  let worker: NodeWorkerProcess | undefined;
  beforeAll(async () => {
    worker = await startNodeWorker({
      command: npxCeleryWire,
      args: ['--app', 'examples/python-calls-node.ts', '-Q', 'node', '-E'],
      env,
    });
  });
  afterAll(async () => {
    await worker?.stop();
  });

  it('python examples/python-calls-node.py', async () => {
    const { stdout } = await run(python, ['examples/python-calls-node.py'], { cwd: root, env });
    expect(stdout).toContain('Hello, Ada!');
    expect(stdout).toContain('Hello, Bob?');
    expect(stdout).toContain('ValueError: negative: -1');
    expect(stdout).toMatch(/'attempts': 2/);
    expect(stdout).toMatch(/'ok': 'pong'/);
  });
});

describe('README example: a chain that crosses languages', () => {
  let py: PythonWorker | undefined;
  let ts: NodeWorkerProcess | undefined;
  beforeAll(async () => {
    [py, ts] = await Promise.all([
      startPythonWorker({ line: '5.7', brokerUrl: REDIS, resultBackend: REDIS, queues: 'py' }),
      startNodeWorker({
        command: npxCeleryWire,
        args: ['--app', 'conformance/app/index.ts', '-Q', 'ts'],
        env,
      }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([py?.stop(), ts?.stop()]);
  });

  it('npx tsx examples/mixed-chain.ts', async () => {
    const { stdout } = await run('npx', ['tsx', 'examples/mixed-chain.ts'], { cwd: root, env });
    expect(stdout).toContain('chain result = 21');
    expect(stdout).toContain('chord result = 16');
  });

  it('python examples/mixed-chain.py', async () => {
    const { stdout } = await run(python, ['examples/mixed-chain.py'], { cwd: root, env });
    expect(stdout).toContain('chain result = 21');
    expect(stdout).toContain('parent = 20 (computed by Node)');
  });
});
