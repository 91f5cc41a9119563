import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { createApp } from '../../src/index';
import { startPythonWorker, type PythonWorker } from '../support/client/python-worker';

/**
 * `celery-wire beat -A examples/beat-app.ts -S redbeat`, run as the README shows: the 2 s entry
 * reaches a real Celery 5.7 worker, whose results are read back; SIGTERM releases the lock.
 */
const root = resolve(__dirname, '..', '..');
const REDIS = 'redis://127.0.0.1:6379/0';
const tag = `${String(process.pid)}-${String(Date.now() % 100000)}`;
const queue = `beat-cli-${tag}`;
const prefix = `cwbeatcli-${tag}:`;

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
  const r = new Redis(REDIS);
  const keys = await r.keys(`${prefix}*`);
  if (keys.length > 0) await r.del(...keys);
  r.disconnect();
});

it('sends the schedule to a Python worker and releases its lock on SIGTERM', async () => {
  const child = spawn(
    process.execPath,
    [join(root, 'bin', 'celery-wire.js'), 'beat', '-A', 'examples/beat-app.ts', '-S', 'redbeat'],
    {
      cwd: root,
      env: { ...process.env, BEAT_QUEUE: queue, REDBEAT_KEY_PREFIX: prefix },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  await new Promise((r) => setTimeout(r, 7_000));
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  expect(out).toContain('beat: Acquired lock');
  expect(out).toContain('beat: Releasing lock');
  const sends = out.match(/Sending due task add-every-2s \(conformance\.add\)/g) ?? [];
  expect(sends.length).toBeGreaterThanOrEqual(2);
  // The bookkeeping Python RedBeat would read: one run recorded per send, the lock released.
  const r = new Redis(REDIS);
  try {
    expect(await r.exists(`${prefix}:lock`)).toBe(0);
    const meta = await r.hget(`${prefix}add-every-2s`, 'meta');
    expect(JSON.parse(meta ?? '{}')).toMatchObject({ total_run_count: sends.length });
  } finally {
    r.disconnect();
  }
  const app = createApp({ brokerUrl: REDIS, resultBackend: REDIS, taskDefaultQueue: queue });
  try {
    await expect(
      (await app.sendTask('conformance.add', { args: [2, 3] })).get({ timeout: 20 }),
    ).resolves.toBe(5);
  } finally {
    await app.close();
  }
});
