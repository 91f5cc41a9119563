import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { createApp, type CeleryApp } from '../../src/index';
import { Beat, every, RedBeatStore, type BeatEntry, type BeatSender } from '../../src/beat/index';
import { startPythonWorker, type PythonWorker } from '../support/client/python-worker';

/**
 * celery-wire's beat against real celery-redbeat 2.4.2 (python-peers/.venv-beat) and a real
 * Celery 5.7 worker receiving the runs: the same Redis keys and bytes as Python RedBeat, each
 * side reading the other's entries, and the leader lock failing over between beats — two TS
 * beats, and a Python beat killed with SIGKILL while a TS beat stands by — with no run doubled.
 * Seconds-scale schedules on real clocks; bounds are generous (they check a schedule, not speed).
 */
const root = resolve(__dirname, '..', '..');
const peers = join(root, 'python-peers');
const py = join(peers, '.venv-beat', 'bin', 'python');
const run = promisify(execFile);
const REDIS = 'redis://127.0.0.1:6379/0';
const tag = `${String(process.pid)}-${String(Date.now() % 100000)}`;
const queue = `beat-${tag}`;

let worker: PythonWorker | undefined;
let app: CeleryApp;
let redis: Redis;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function peerEnv(prefix: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PYTHONPATH: peers,
    CELERY_BROKER_URL: REDIS,
    REDBEAT_REDIS_URL: REDIS,
    REDBEAT_KEY_PREFIX: prefix,
    ...extra,
  };
}

/** A sender that records what beat sent and when (and really sends it). */
function recordingSender(): {
  sent: { at: number; id: string; who: string }[];
  as: (who: string) => BeatSender;
} {
  const sent: { at: number; id: string; who: string }[] = [];
  return {
    sent,
    as: (who) => ({
      sendTask: async (name, opts) => {
        const r = await app.sendTask(name, opts);
        sent.push({ at: Date.now(), id: r.id, who });
        return r;
      },
    }),
  };
}

const entry = (name: string, seconds: number): BeatEntry => ({
  name,
  task: 'conformance.add',
  schedule: every(seconds),
  args: [20, 22],
  kwargs: {},
  options: { queue, routing_key: queue },
});

beforeAll(async () => {
  await run('bash', [join(peers, 'bootstrap-extra.sh'), 'beat']);
  worker = await startPythonWorker({
    line: '5.7',
    brokerUrl: REDIS,
    resultBackend: REDIS,
    queues: queue,
  });
  app = createApp({ brokerUrl: REDIS, resultBackend: REDIS });
  redis = new Redis(REDIS);
});
afterAll(async () => {
  await worker?.stop();
  await app.close();
  const keys = await redis.keys(`cwbeat-${tag}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

describe('celery-wire beat with the RedBeat store', () => {
  it('writes the bytes Python RedBeat writes for the same entry', async () => {
    const pyPrefix = `cwbeat-${tag}-py:`;
    await run(
      py,
      [
        '-m',
        'peer.redbeat_peer',
        'save',
        'add',
        'conformance.add',
        '2',
        '[20, 22]',
        JSON.stringify({ queue }),
      ],
      {
        env: peerEnv(pyPrefix),
        cwd: peers,
      },
    );
    const tsPrefix = `cwbeat-${tag}-ts:`;
    await new RedBeatStore(redis, { keyPrefix: tsPrefix }).setup(
      [{ ...entry('add', 2), options: { queue } }],
      new Date(),
    );
    const pyDef = await redis.hget(`${pyPrefix}add`, 'definition');
    const tsDef = await redis.hget(`${tsPrefix}add`, 'definition');
    expect(pyDef).not.toBeNull();
    expect(tsDef).toBe(pyDef);
    expect(await redis.zscore(`${tsPrefix}:schedule`, `${tsPrefix}add`)).not.toBeNull();
  });

  it('sends a 2 s entry to a Python worker on time; Python RedBeat reads the bookkeeping', async () => {
    const prefix = `cwbeat-${tag}-run:`;
    const rec = recordingSender();
    const beat = new Beat({
      store: new RedBeatStore(redis, { keyPrefix: prefix }),
      entries: [entry('add2s', 2)],
      sender: rec.as('ts'),
      maxInterval: 1,
    });
    const running = beat.run();
    await sleep(9_000);
    await beat.stop();
    await running;
    // Started at t0, the entry first runs at t0+2 s, then every 2 s: 4 runs in 9 s (3 to 5
    // allowing for the scheduler's one-second loop and a loaded machine).
    expect(rec.sent.length).toBeGreaterThanOrEqual(3);
    expect(rec.sent.length).toBeLessThanOrEqual(5);
    const gaps = rec.sent.slice(1).map((s, i) => s.at - (rec.sent[i]?.at ?? 0));
    for (const g of gaps) {
      expect(g).toBeGreaterThan(1_000);
      expect(g).toBeLessThan(4_000);
    }
    for (const s of rec.sent) {
      await expect(app.asyncResult(s.id).get({ timeout: 20 })).resolves.toBe(42);
    }
    const { stdout } = await run(py, ['-m', 'peer.redbeat_peer', 'show', 'add2s'], {
      env: peerEnv(prefix),
      cwd: peers,
    });
    const shown = JSON.parse(stdout) as {
      total_run_count: number;
      every: number;
      last_run_at: string;
    };
    expect(shown.every).toBe(2);
    expect(shown.total_run_count).toBe(rec.sent.length);
    expect(Math.abs(Date.parse(shown.last_run_at) - (rec.sent.at(-1)?.at ?? 0))).toBeLessThan(
      1_500,
    );
  });

  it('runs an entry that Python RedBeat stored', async () => {
    const prefix = `cwbeat-${tag}-pyentry:`;
    await run(
      py,
      [
        '-m',
        'peer.redbeat_peer',
        'save',
        'frompy',
        'conformance.add',
        '1',
        '[20, 22]',
        JSON.stringify({ queue }),
      ],
      {
        env: peerEnv(prefix),
        cwd: peers,
      },
    );
    const rec = recordingSender();
    // No static entries: the beat runs what the store holds, as RedBeat's dynamic entries.
    const beat = new Beat({
      store: new RedBeatStore(redis, { keyPrefix: prefix }),
      entries: [],
      sender: rec.as('ts'),
      maxInterval: 1,
    });
    const running = beat.run();
    await sleep(4_500);
    await beat.stop();
    await running;
    expect(rec.sent.length).toBeGreaterThanOrEqual(2);
    await expect(app.asyncResult(rec.sent[0]?.id ?? '').get({ timeout: 20 })).resolves.toBe(42);
  });

  it('leader failover between two TS beats: the standby takes over, no run doubled', async () => {
    const prefix = `cwbeat-${tag}-ha:`;
    const rec = recordingSender();
    const mk = (who: string): Beat =>
      new Beat({
        store: new RedBeatStore(redis, { keyPrefix: prefix }),
        entries: [entry('ha', 1)],
        sender: rec.as(who),
        maxInterval: 1,
        lockTimeout: 3,
      });
    const a = mk('a');
    const runA = a.run();
    await sleep(1_500);
    const b = mk('b');
    const runB = b.run();
    await sleep(3_500);
    a.abandon(); // killed: the lock is not released and expires after its timeout
    await runA;
    const killedAt = Date.now();
    await sleep(7_000);
    await b.stop();
    await runB;
    const byA = rec.sent.filter((s) => s.who === 'a');
    const byB = rec.sent.filter((s) => s.who === 'b');
    expect(byA.length).toBeGreaterThanOrEqual(2);
    expect(byB.length).toBeGreaterThanOrEqual(2);
    // Never both at once: every b send is after a was killed.
    expect(byB.every((s) => s.at >= killedAt)).toBe(true);
    // Takeover within the lock timeout (3 s) plus one loop and slack.
    expect((byB[0]?.at ?? Infinity) - killedAt).toBeLessThan(6_000);
    // No doubled run: consecutive sends are at least most of a period apart.
    const all = [...rec.sent].sort((x, y) => x.at - y.at);
    for (let i = 1; i < all.length; i++) {
      expect((all[i]?.at ?? 0) - (all[i - 1]?.at ?? 0)).toBeGreaterThan(500);
    }
  });

  it('a Python RedBeat leader killed with SIGKILL is replaced by a standing-by TS beat', async () => {
    const prefix = `cwbeat-${tag}-mixed:`;
    const schedule = {
      mixed: { task: 'conformance.add', every: 1, args: [20, 22], options: { queue } },
    };
    const child: ChildProcess = spawn(
      py,
      [
        '-m',
        'celery',
        '-A',
        'peer.redbeat_peer',
        'beat',
        '-S',
        'redbeat.RedBeatScheduler',
        '-l',
        'info',
      ],
      {
        cwd: peers,
        env: peerEnv(prefix, {
          REDBEAT_LOCK_TIMEOUT: '3',
          BEAT_SCHEDULE_JSON: JSON.stringify(schedule),
        }),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let pyLog = '';
    child.stdout?.on('data', (d: Buffer) => (pyLog += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (pyLog += d.toString()));
    const exited = new Promise((r) => child.once('exit', r));
    try {
      for (let i = 0; i < 100 && !pyLog.includes('beat: Acquired lock'); i++) await sleep(200);
      expect(pyLog).toContain('beat: Acquired lock');
      const rec = recordingSender();
      const ts = new Beat({
        store: new RedBeatStore(redis, { keyPrefix: prefix }),
        entries: [entry('mixed', 1)],
        sender: rec.as('ts'),
        maxInterval: 1,
        lockTimeout: 3,
      });
      const running = ts.run();
      await sleep(3_000);
      expect(rec.sent).toEqual([]); // Python holds the lock
      const pyRuns = (pyLog.match(/Sending due task mixed/g) ?? []).length;
      expect(pyRuns).toBeGreaterThanOrEqual(1);
      child.kill('SIGKILL');
      await exited;
      const killedAt = Date.now();
      await sleep(7_000);
      await ts.stop();
      await running;
      expect(rec.sent.length).toBeGreaterThanOrEqual(2);
      expect((rec.sent[0]?.at ?? Infinity) - killedAt).toBeLessThan(6_000);
      await expect(app.asyncResult(rec.sent[0]?.id ?? '').get({ timeout: 20 })).resolves.toBe(42);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
