import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { createApp, type CeleryApp } from '../src/app/app';
import type { CeleryEvent } from '../src/events/state';
import { cliBin, cpuSeconds, sleep, start, type Proc } from './procs';
import { num, verdict, type Row } from './table';

/** What the CPU-bound rows run. */
export interface CpuBoundOptions {
  redisUrl: string;
  /** Tasks of the rate row (BENCH_CPU_TASKS, default 40). */
  tasks: number;
  /** Loop iterations of one `bench.work` task (BENCH_CPU_WORK, default 20M: ≈0.1–0.2 s here). */
  work: number;
}

const step = (s: string): void => void process.stderr.write(`bench: cpu-bound ${s}\n`);

/** A CLI worker of bench/cpu-app.ts, as a user starts it (`-E`, log level info); once ready. */
async function worker(pool: 'prefork' | 'solo', queue: string, node: string, url: string) {
  const args = ['worker', '-A', 'bench/cpu-app.ts', '-P', pool, '-c', '2', '-E', '-Q', queue];
  const p = start(process.execPath, [cliBin, ...args, '-n', node], {
    CELERY_BROKER_URL: url,
    CELERY_RESULT_BACKEND: url,
  });
  for (let i = 0; !/\bready[:.]/.test(p.output()); i++) {
    if (p.child.exitCode !== null || i > 600) {
      await p.stop();
      throw new Error(`cpu-bound worker (${pool}) not ready: ${p.output()}`);
    }
    await sleep(100);
  }
  return p;
}

/**
 * `n` × `bench.work(work)` sent at once: tasks per second from the first send to the last
 * result, and the worker's CPU seconds per wall second meanwhile (the cores it really got).
 */
async function cpuRate(app: CeleryApp, queue: string, pid: number, o: CpuBoundOptions) {
  await (await app.sendTask('bench.work', { args: [1000], queue })).get({ timeout: 120 });
  const t0 = performance.now();
  const c0 = cpuSeconds(pid);
  const rs = await Promise.all(
    Array.from({ length: o.tasks }, () => app.sendTask('bench.work', { args: [o.work], queue })),
  );
  await Promise.all(rs.map((r) => r.get({ timeout: 900 })));
  const wall = (performance.now() - t0) / 1000;
  return { rate: o.tasks / wall, cores: (cpuSeconds(pid) - c0) / wall };
}

/**
 * During a 10 s synchronous `bench.spin`: `inspect ping` latencies (one every 2 s, 3 s reply
 * timeout: null when unanswered) and the widest gap between the worker's heartbeats.
 */
async function deafness(app: CeleryApp, queue: string, node: string) {
  const beats: number[] = [];
  const rx = await app.eventReceiver();
  rx.on('worker-heartbeat', (e: CeleryEvent) => {
    if (e.hostname === node) beats.push(performance.now());
  });
  try {
    const spin = await app.sendTask('bench.spin', { args: [10_000], queue });
    await sleep(1000);
    const pings: (number | null)[] = [];
    const from = performance.now();
    for (let i = 0; i < 4; i++) {
      const t0 = performance.now();
      const r = await app.control.ping({ destination: [node], timeout: 3, limit: 1 });
      pings.push(r.length > 0 ? performance.now() - t0 : null);
      await sleep(2000);
    }
    await spin.get({ timeout: 120 });
    const during = [from, ...beats.filter((b) => b >= from), performance.now()];
    const gap = Math.max(...during.slice(1).map((b, i) => b - (during[i] ?? b)));
    return { pings, gapS: gap / 1000 };
  } finally {
    await rx.close();
  }
}

/** A 1 s hard limit against `while (true) {}`: milliseconds from send to the stored failure. */
async function hardLimit(app: CeleryApp, queue: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const r = await app.sendTask('bench.forever', { queue, timeLimit: 1 });
    await r.get({ timeout: 60, propagate: false });
    out.push(performance.now() - t0);
  }
  return out;
}

const ms = (x: number | null): string => (x === null ? 'no reply in 3 s' : num(x, ' ms'));

/**
 * The CPU-bound rows (issue 15): the same CPU-bound task on the worker CLI with `-P prefork -c 2`
 * (worker threads) and `-P solo -c 2` (in-process), Redis broker and backend; `inspect ping` and
 * heartbeats during a 10 s synchronous task on each; a 1 s hard limit vs `while (true) {}`.
 */
export async function benchCpuBound(o: CpuBoundOptions): Promise<Row[]> {
  const app = createApp({ env: {}, brokerUrl: o.redisUrl, resultBackend: o.redisUrl });
  const got = new Map<
    string,
    { rate: number; cores: number; pings: (number | null)[]; gapS: number }
  >();
  let kills: number[] = [];
  try {
    for (const pool of ['prefork', 'solo'] as const) {
      const id = randomUUID().slice(0, 6);
      const queue = `bench-cpu-${pool}-${id}`;
      const node = `bench-cpu-${pool}-${id}@bench`;
      step(`${pool}: ${String(o.tasks)} × work(${String(o.work)})`);
      const w: Proc = await worker(pool, queue, node, o.redisUrl);
      try {
        const r = await cpuRate(app, queue, w.pid, o);
        step(`${pool}: ping during a 10 s task`);
        got.set(pool, { ...r, ...(await deafness(app, queue, node)) });
        if (pool === 'prefork') {
          step('prefork: 1 s hard limit vs while(true){}');
          kills = await hardLimit(app, queue);
        }
      } finally {
        await w.stop();
      }
    }
  } finally {
    await app.close();
  }
  const pre = got.get('prefork');
  const solo = got.get('solo');
  const x = (pre?.rate ?? NaN) / (solo?.rate ?? NaN);
  const pingMax = Math.max(...(pre?.pings ?? [null]).map((p) => p ?? Infinity));
  const maxKill = Math.max(...kills);
  return [
    {
      what: `CPU-bound task ×${String(o.tasks)} (synchronous loop), worker CLI \`-P prefork -c 2\` (threads) vs \`-P solo -c 2\` (in-process), Redis, ${String(cpus().length)} cores`,
      ours:
        `prefork ${num(pre?.rate, '/s')} on ${num(pre?.cores)} cores' worth of CPU, ` +
        `in-process ${num(solo?.rate, '/s')} on ${num(solo?.cores)} (${x.toFixed(2)}×)`,
      target: '≥1.8× in-process',
      verdict: verdict(x >= 1.8),
    },
    {
      what: '`inspect ping` (×4) and heartbeats during a 10 s synchronous task',
      ours:
        `prefork: ping ${(pre?.pings ?? []).map(ms).join(', ')}; widest heartbeat gap ${num(pre?.gapS, ' s')}. ` +
        `in-process: ping ${(solo?.pings ?? []).map(ms).join(', ')}; widest heartbeat gap ${num(solo?.gapS, ' s')}`,
      target: 'answered within 1 s (prefork)',
      verdict: verdict(pingMax < 1000),
    },
    {
      what: 'hard time limit 1 s vs `while (true) {}` (prefork), send → stored failure',
      ours: kills.map((k) => num(k, ' ms')).join(', '),
      target: '≤1.5 s',
      verdict: verdict(maxKill <= 1500),
    },
  ];
}
