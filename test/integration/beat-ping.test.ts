import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';

/**
 * Celery 5.7's beat remote control (`celery/beat.py`, `BeatPidbox`; `celery beat
 * --enable-remote-control -n NAME`): `celery-wire beat --enable-remote-control` answers Celery's
 * own `celery inspect ping -d celerybeat@…` with what a real Celery 5.7 beat answers, and, like
 * it, nothing to worker-only commands (`inspect active`: "No nodes replied", exit non-zero).
 */
const root = resolve(__dirname, '..', '..');
const peers = join(root, 'python-peers');
const py57 = join(peers, '.venv-5.7', 'bin', 'python');
const REDIS = 'redis://127.0.0.1:6379/0';
const tag = `${String(process.pid)}-${String(Date.now() % 100000)}`;
const queue = `beat-ping-${tag}`;
const tsNode = `celerybeat@ts-${tag}`;
const pyNode = `celerybeat@py-${tag}`;
const dir = mkdtempSync(join(tmpdir(), 'cw-beat-ping-'));

const children: ChildProcess[] = [];

function start(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return { child, log: () => out };
}

async function waitFor(log: () => string, text: string): Promise<void> {
  for (let i = 0; i < 300 && !log().includes(text); i++)
    await new Promise((r) => setTimeout(r, 100));
  expect(log()).toContain(text);
}

/** `celery -A peer.app inspect <cmd> -d <nodes> --json` with Celery 5.7's own CLI. */
function inspect(
  cmd: string,
  nodes: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(
      py57,
      ['-m', 'celery', '-A', 'peer.app', 'inspect', cmd, '-d', nodes, '-t', '3', '--json'],
      { cwd: peers, env: { ...process.env, CELERY_BROKER_URL: REDIS, PYTHONPATH: peers } },
      (err, stdout, stderr) => {
        res({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

let ts: ReturnType<typeof start>;
let pyBeat: ReturnType<typeof start>;
beforeAll(async () => {
  ts = start(
    process.execPath,
    [
      join(root, 'bin', 'celery-wire.js'),
      'beat',
      '-A',
      'examples/beat-app.ts',
      '-s',
      join(dir, 'ts-schedule.json'),
      '--enable-remote-control',
      '-n',
      tsNode,
    ],
    root,
    { ...process.env, BEAT_QUEUE: queue, CELERY_BROKER_URL: REDIS },
  );
  pyBeat = start(
    py57,
    [
      ...['-m', 'celery', '-A', 'peer.app', 'beat', '--enable-remote-control', '-n', pyNode],
      ...['-s', join(dir, 'py-schedule'), '-l', 'info'],
    ],
    peers,
    { ...process.env, CELERY_BROKER_URL: REDIS, PYTHONPATH: peers },
  );
  await waitFor(ts.log, 'beat pidbox: Connected to');
  await waitFor(pyBeat.log, 'beat pidbox: Connected to');
}, 60_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await Promise.all(
    children.map((c) =>
      c.exitCode === null ? new Promise((r) => c.once('exit', r)) : Promise.resolve(),
    ),
  );
  const r = new Redis(REDIS);
  await r.del(queue);
  r.disconnect();
});

describe('beat answers ping as Celery 5.7 beat does', () => {
  it('shows its node in the banner, as `celery beat` does', () => {
    expect(ts.log()).toContain(`    . remote control -> ${tsNode}`);
    expect(pyBeat.log()).toContain(`    . remote control -> ${pyNode}`);
  });

  it('`celery inspect ping -d` gets pong from both beats, the same reply', async () => {
    const r = await inspect('ping', `${tsNode},${pyNode}`);
    expect(r.code).toBe(0);
    const replies = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(replies).toEqual({ [tsNode]: { ok: 'pong' }, [pyNode]: { ok: 'pong' } });
  }, 30_000);

  it('stays silent to worker-only commands, as Python beat does', async () => {
    for (const node of [tsNode, pyNode]) {
      const r = await inspect('active', node);
      expect({ node, code: r.code }).toEqual({ node, code: 69 });
      expect(r.stdout + r.stderr).toContain('No nodes replied within time constraint');
    }
  }, 30_000);

  it('stops answering once stopped', async () => {
    ts.child.kill('SIGTERM');
    await new Promise((r) => ts.child.once('exit', r));
    const r = await inspect('ping', tsNode);
    expect(r.code).not.toBe(0);
  }, 30_000);
});
