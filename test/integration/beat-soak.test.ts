import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { startPythonWorker, type PythonWorker } from '../support/client/python-worker';

/**
 * The soak of issue 16: `celery-wire beat -A examples/beat-app.ts` (the default, file-backed
 * scheduler, started as a user starts it) runs its two entries — `add-every-2s` (every(2),
 * `conformance.add(2, 3)`) and `add-each-minute` (crontab `* * * * *`, `conformance.add(40, 2)`)
 * — against a real Celery 5.7 worker for five minutes of real time.
 *
 * What is asserted strictly (facts that do not depend on how loaded the machine is): every id beat
 * sent was received by the Python worker exactly once and finished SUCCESS with the entry's
 * result; no run doubled (interval sends ≥ 1 s apart, at most floor(window / 2 s) + 1 of them;
 * each crontab minute at most once); no run lost (every minute boundary inside the window has its
 * run, no 2 s period skipped). Lateness is printed as a summary, not bounded tightly: Celery's
 * interval schedule re-arms from the moment it ran (`celery/beat.py`, `ScheduleEntry._next_instance`:
 * `last_run_at = now`), so each period's lateness shifts the rest and a loaded CI box would turn
 * a ±1 count or a millisecond bound into a flake. The only time bounds are generous sanity ones:
 * a crontab run within 10 s after its boundary, an interval gap under 4 s (two periods: a longer
 * gap is a skipped run, whatever the load).
 */
const root = resolve(__dirname, '..', '..');
const REDIS = process.env.BEAT_SOAK_REDIS ?? 'redis://127.0.0.1:6379/1';
const tag = `${String(process.pid)}-${String(Date.now() % 100000)}`;
const queue = `beat-soak-${tag}`;
const SOAK_MS = 300_000;
const MINUTE = 60_000;
const INTERVAL = 'add-every-2s';
const CRON = 'add-each-minute';
const RESULT: Record<string, number> = { [INTERVAL]: 5, [CRON]: 42 };

interface Send {
  entry: string;
  at: number;
  id: string;
}
interface Meta {
  status: string;
  result: unknown;
  date_done: string;
}

const dir = mkdtempSync(join(tmpdir(), 'cw-beat-soak-'));
let py: PythonWorker | undefined;
let beat: ChildProcess | undefined;
let sentIds: string[] = [];

beforeAll(async () => {
  py = await startPythonWorker({
    line: '5.7',
    brokerUrl: REDIS,
    resultBackend: REDIS,
    queues: queue,
  });
});
afterAll(async () => {
  if (beat?.exitCode === null && beat.signalCode === null) beat.kill('SIGKILL');
  await py?.stop();
  const r = new Redis(REDIS);
  try {
    const keys = sentIds.map((id) => `celery-task-meta-${id}`);
    if (keys.length > 0) await r.del(...keys);
    await r.del(queue); // the (by now empty) list of the private queue
  } finally {
    r.disconnect();
  }
  rmSync(dir, { recursive: true, force: true });
});

/** `[ISO: LEVEL/MainProcess] message` lines of `celery-wire beat` (src/cli/beat.ts, `log`). */
function beatLines(out: string): { at: number; message: string }[] {
  const lines: { at: number; message: string }[] = [];
  for (const m of out.matchAll(/^\[(\S+): \w+\/MainProcess\] (.*)$/gm)) {
    lines.push({ at: Date.parse(m[1] ?? ''), message: m[2] ?? '' });
  }
  return lines;
}

/** Each send: `Sending due task NAME (…)` at its time, then (debug) `… sent. id->ID`. */
function sendsOf(out: string): Send[] {
  const sends: Send[] = [];
  let due: { entry: string; at: number } | undefined;
  for (const { at, message } of beatLines(out)) {
    const d = /^Scheduler: Sending due task (\S+) \(/.exec(message);
    if (d) due = { entry: d[1] ?? '', at };
    const s = /^Scheduler: \S+ sent\. id->(\S+)$/.exec(message);
    if (s && due) {
      sends.push({ ...due, id: s[1] ?? '' });
      due = undefined;
    }
  }
  return sends;
}

const gapsOf = (ts: readonly number[]): number[] => ts.slice(1).map((t, i) => t - (ts[i] ?? t));
const stats = (xs: readonly number[]): { min: number; max: number; mean: number } => ({
  min: Math.min(...xs),
  max: Math.max(...xs),
  mean: Math.round(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)),
});
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function metasOf(ids: readonly string[]): Promise<Map<string, Meta>> {
  const r = new Redis(REDIS);
  const metas = new Map<string, Meta>();
  try {
    // The last runs sent before SIGTERM may still be on their way through the worker.
    for (let i = 0; i < 60 && metas.size < ids.length; i++) {
      for (const id of ids.filter((x) => !metas.has(x))) {
        const raw = await r.get(`celery-task-meta-${id}`);
        if (raw !== null) metas.set(id, JSON.parse(raw) as Meta);
      }
      if (metas.size < ids.length) await sleep(500);
    }
  } finally {
    r.disconnect();
  }
  return metas;
}

it('a 1-minute crontab and a 2 s entry reach a Celery 5.7 worker for five minutes, none lost or doubled', async () => {
  const child = spawn(
    process.execPath,
    [
      join(root, 'bin', 'celery-wire.js'),
      'beat',
      '-A',
      'examples/beat-app.ts',
      '-s',
      join(dir, 'celerybeat-schedule.json'),
      '-l',
      'debug',
    ],
    {
      cwd: root,
      env: {
        ...process.env,
        CELERY_BROKER_URL: REDIS,
        CELERY_RESULT_BACKEND: REDIS,
        BEAT_QUEUE: queue,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  beat = child;
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', r));

  // The window opens when beat logs `beat: Starting...` (setup follows within milliseconds).
  for (let i = 0; i < 600 && !out.includes('beat: Starting...'); i++) await sleep(100);
  const start = beatLines(out).find((l) => l.message === 'beat: Starting...')?.at;
  if (start === undefined) throw new Error(`beat did not start:\n${out}`);
  await sleep(Math.max(0, start + SOAK_MS - Date.now()));
  // Do not stop within 15 s after a minute boundary, so each boundary is clearly in or out.
  const intoMinute = Date.now() % MINUTE;
  if (intoMinute < 15_000) await sleep(15_000 - intoMinute + 500);
  const stop = Date.now();
  child.kill('SIGTERM');
  expect(await exited).toBe(0);

  const sends = sendsOf(out);
  sentIds = sends.map((s) => s.id);
  const windowMs = stop - start;
  const interval = sends.filter((s) => s.entry === INTERVAL).map((s) => s.at);
  const cron = sends.filter((s) => s.entry === CRON);

  // Python side: each id received once (a redelivery would log it twice), and its result.
  const received = [...(py?.log() ?? '').matchAll(/Task conformance\.add\[([\w-]+)\] received/g)]
    .map((m) => m[1] ?? '')
    .sort();
  const metas = await metasOf(sentIds);
  const doneAt = (id: string): number => Date.parse(metas.get(id)?.date_done ?? '');
  const intervalDone = sends.filter((s) => s.entry === INTERVAL).map((s) => doneAt(s.id));
  const boundaries: number[] = [];
  for (let b = Math.ceil(start / MINUTE) * MINUTE; b <= stop; b += MINUTE) boundaries.push(b);
  const cronAt = cron.map((s) => ({
    boundary: Math.floor(s.at / MINUTE) * MINUTE,
    sentMs: s.at % MINUTE,
    doneMs: doneAt(s.id) - Math.floor(s.at / MINUTE) * MINUTE,
    doneIso: metas.get(s.id)?.date_done,
  }));
  console.log(
    `beat soak summary: ${JSON.stringify(
      {
        windowS: windowMs / 1000,
        sends: sends.length,
        receivedByPython: received.length,
        success: [...metas.values()].filter((m) => m.status === 'SUCCESS').length,
        interval: {
          runs: interval.length,
          floorWindowOver2s: Math.floor(windowMs / 2000),
          firstAfterStartMs: (interval[0] ?? NaN) - start,
          beatGapsMs: stats(gapsOf(interval)),
          workerGapsMs: stats(gapsOf(intervalDone)),
        },
        crontab: {
          boundariesInWindow: boundaries.map((b) => new Date(b).toISOString()),
          runs: cronAt.map((c) => ({
            minute: new Date(c.boundary).toISOString(),
            beatSentAfterBoundaryMs: c.sentMs,
            workerDoneAfterBoundaryMs: c.doneMs,
            dateDone: c.doneIso,
          })),
        },
      },
      null,
      1,
    )}`,
  );

  // Every send reached the Python worker exactly once and succeeded with the entry's result.
  expect(sends.length).toBeGreaterThan(0);
  expect(received).toEqual([...sentIds].sort());
  for (const s of sends) {
    expect({ id: s.id, ...metas.get(s.id) }).toMatchObject({
      id: s.id,
      status: 'SUCCESS',
      result: RESULT[s.entry],
    });
  }
  expect(sends.every((s) => s.entry in RESULT)).toBe(true);

  // Interval: the first run one period after start; no two closer than 1 s (a double) and none
  // two periods apart (a skipped run), the last one within a period of the stop; and never more
  // runs than the window holds.
  const gaps = gapsOf(interval);
  expect(interval[0] ?? NaN).toBeGreaterThanOrEqual(start + 1900);
  expect(interval[0] ?? NaN).toBeLessThan(start + 4000);
  expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1000);
  expect(Math.max(...gaps)).toBeLessThan(4000);
  expect(stop - (interval.at(-1) ?? NaN)).toBeLessThan(4000);
  expect(interval.length).toBeLessThanOrEqual(Math.floor(windowMs / 2000) + 1);

  // Crontab: one run per minute boundary in the window, each at or after its boundary (beat and
  // worker side) and within the 10 s sanity bound. A boundary in the first second is allowed
  // either way: setup may have read the clock just after it.
  const minutes = cronAt.map((c) => c.boundary);
  expect(new Set(minutes).size).toBe(minutes.length);
  const required = boundaries.filter((b) => b >= start + 1000);
  expect(minutes.filter((b) => b >= start + 1000)).toEqual(required);
  expect(minutes.every((b) => boundaries.includes(b))).toBe(true);
  expect(required.length).toBeGreaterThanOrEqual(4);
  for (const c of cronAt) {
    expect(c.sentMs).toBeLessThan(10_000);
    expect(c.doneMs).toBeGreaterThanOrEqual(0);
    expect(c.doneMs).toBeLessThan(10_000);
  }
}, 420_000);
