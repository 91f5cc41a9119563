import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { drain, dropQueue, fill, startWorker, type DrainTarget, type WorkerKind } from './drain';
import { rssMiB, runJson, sleep, tsxBin } from './procs';
import { awaitResults, dropResults, type DrainResult } from './results';
import { num, rate, ratio, verdict, type Row } from './table';

/** What the worker rows run. */
export interface WorkerBenchOptions {
  redisUrl: string;
  amqpUrl: string;
  tasks: number;
  pythonTasks: number;
  soak: number;
}

const step = (s: string): void => void process.stderr.write(`bench: worker ${s}\n`);

async function drains(
  o: WorkerBenchOptions,
  t: DrainTarget,
  redis: Redis,
  kinds: readonly WorkerKind[],
): Promise<Map<WorkerKind, DrainResult>> {
  const out = new Map<WorkerKind, DrainResult>();
  for (const k of kinds) {
    step(`drain ${k} on ${t.brokerUrl.split(':')[0] ?? ''}`);
    const n = k.startsWith('celery-') && k !== 'celery-wire' && k !== 'celery-node';
    try {
      out.set(k, await drain(k, n ? o.pythonTasks : o.tasks, t, redis));
    } catch (e) {
      // One contender failing leaves its cells empty ('—'), not the whole table.
      process.stderr.write(`bench: ${k} failed: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  }
  return out;
}

const cpu = (d: DrainResult | undefined): string => num(d?.cpuUsPerTask, ' µs');

function drainRows(
  label: string,
  m: Map<WorkerKind, DrainResult>,
  min: number,
  vsNode: number,
): Row[] {
  const ours = m.get('celery-wire')?.perSecond ?? NaN;
  const node = m.get('celery-node')?.perSecond;
  const solo = m.get('celery-solo');
  const pre = m.get('celery-prefork');
  const okNode = vsNode === 0 || node === undefined || ours >= vsNode * node;
  return [
    {
      what: `worker CLI drains ${label}, results counted in the backend`,
      ours: `${rate(ours)}${ratio(ours, node)}`,
      node: rate(node),
      python: `solo ${rate(solo?.perSecond)}, prefork -c 2 ${rate(pre?.perSecond)}`,
      target: `≥${String(min / 1000)}k/s${vsNode > 0 ? ` and ≥${String(vsNode)}× celery-node` : ''}`,
      verdict: verdict(ours >= min && okNode),
    },
    {
      what: `worker CPU per task (user+sys, /proc), ${label}`,
      ours: cpu(m.get('celery-wire')),
      node: cpu(m.get('celery-node')),
      python: `solo ${cpu(solo)}, prefork ${cpu(pre)}`,
    },
  ];
}

/** Round trip Node client → Node CLI worker, Redis broker and backend. */
async function roundTrip(o: WorkerBenchOptions): Promise<Row> {
  step('round trip');
  const queue = `bench-perf-rtt-${randomUUID().slice(0, 6)}`;
  const t = { brokerUrl: o.redisUrl, backendUrl: o.redisUrl };
  const w = startWorker('celery-wire', queue, t);
  try {
    const r = await runJson<{ p50_ms: number; p99_ms: number }>(tsxBin, [
      'bench/producers/rtt.ts',
      o.redisUrl,
      o.redisUrl,
      queue,
      '2000',
    ]);
    return {
      what: 'round trip `await (await add.delay()).get()`, Node client → Node worker, Redis',
      ours: `p50 ${num(r.p50_ms, ' ms')}, p99 ${num(r.p99_ms, ' ms')}`,
      target: 'p50 <1 ms, p99 <5 ms',
      verdict: verdict(r.p50_ms < 1 && r.p99_ms < 5),
    };
  } finally {
    await w.stop();
  }
}

/** RSS of one CLI worker over `soak` tasks, fed in chunks, results dropped after each chunk. */
async function soak(o: WorkerBenchOptions, redis: Redis): Promise<Row> {
  const queue = `bench-perf-soak-${randomUUID().slice(0, 6)}`;
  const t = { brokerUrl: o.redisUrl, backendUrl: o.redisUrl };
  const chunk = Math.min(20_000, o.soak);
  const w = startWorker('celery-wire', queue, t);
  const samples: number[] = [];
  let done = 0;
  try {
    while (done < o.soak) {
      step(`soak ${String(done)}/${String(o.soak)}`);
      const ids = await fill(o.redisUrl, queue, chunk);
      await awaitResults(redis, ids, w);
      await dropResults(redis, ids);
      done += chunk;
      await sleep(200);
      samples.push(rssMiB(w.pid));
    }
  } finally {
    await w.stop();
    await dropQueue(o.redisUrl, queue, redis);
  }
  const first = samples[0] ?? NaN;
  const last = samples[samples.length - 1] ?? NaN;
  const max = Math.max(...samples);
  const drift = (last / first - 1) * 100;
  return {
    what: `worker RSS over ${String(o.soak)} tasks (after first ${String(chunk)} → end, max)`,
    ours: `${num(first, ' MiB')} → ${num(last, ' MiB')} (${drift >= 0 ? '+' : ''}${drift.toFixed(1)}%), max ${num(max, ' MiB')}`,
    target: `flat ±10% (1M: BENCH_SOAK=1000000)`,
    verdict: verdict(Math.abs(drift) <= 10),
  };
}

/** Worker rows: drains on both brokers with every contender, round trip, soak. */
export async function benchWorkers(o: WorkerBenchOptions, redis: Redis): Promise<Row[]> {
  const onRedis = await drains(o, { brokerUrl: o.redisUrl, backendUrl: o.redisUrl }, redis, [
    'celery-wire',
    'celery-node',
    'celery-solo',
    'celery-prefork',
  ]);
  const onAmqp = await drains(o, { brokerUrl: o.amqpUrl, backendUrl: o.redisUrl }, redis, [
    'celery-wire',
    'celery-node',
    'celery-solo',
  ]);
  const rows = [
    ...drainRows(`${String(o.tasks)} tasks, Redis broker + backend`, onRedis, 30_000, 2.5),
    ...drainRows(`${String(o.tasks)} tasks, RabbitMQ broker, Redis backend`, onAmqp, 15_000, 0),
  ];
  rows.push(await roundTrip(o));
  step('soak');
  rows.push(await soak(o, redis));
  return rows;
}
