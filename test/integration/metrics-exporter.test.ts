import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { createApp, type CeleryApp } from '../../src/index';
import { startPythonWorker } from '../support/client/python-worker';
import { startNodeWorker } from '../support/node-worker';
import {
  parsePrometheus,
  privateRedis,
  randomPort,
  scrapeText,
  startCeleryExporter,
  type Family,
} from '../support/otel/celery-exporter';
import { exited, PEERS, spawnWorker } from '../support/worker/int-helpers';

/**
 * `celery-wire worker --metrics-port` against real Redis: the scrape shows the TS worker under
 * celery-exporter's metric names, labels and types (danihodovic/celery-exporter,
 * `src/exporter.py`, `Exporter.__init__`), counted from the tasks it ran.
 */
const ROOT = resolve(__dirname, '..', '..');
const REDIS = 'redis://127.0.0.1:6379/0';
const tag = `${String(process.pid)}-${String(Date.now() % 100000)}`;
const queue = `obs-metrics-${tag}`;
const node = `obs-metrics-${tag}@${hostname()}`;
const host = hostname();

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => {
        res(typeof a === 'object' && a ? a.port : 0);
      });
    });
  });
}

/** The scrape, once the endpoint answers (it starts right after the worker is ready). */
async function scrape(port: number): Promise<string> {
  let last: unknown;
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${String(port)}/metrics`);
      if (r.ok) return await r.text();
      last = r.status;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no metrics endpoint: ${String(last)}`);
}

let child: ChildProcess;
let app: CeleryApp;
let port: number;

beforeAll(async () => {
  port = await freePort();
  child = await spawnWorker(
    [
      '-A',
      join(ROOT, 'test', 'support', 'otel', 'metrics-app.ts'),
      '-Q',
      queue,
      '-n',
      node,
      '-c',
      '2',
      '-b',
      REDIS,
      '--backend',
      REDIS,
      '--without-control',
      '--metrics-port',
      String(port),
      '--metrics-host',
      '127.0.0.1',
    ],
    process.env,
  );
  app = createApp({ brokerUrl: REDIS, resultBackend: REDIS });
});
afterAll(async () => {
  await app.close();
  if (child.exitCode === null) {
    child.kill('SIGTERM');
    await exited(child);
  }
});

describe('celery-wire worker --metrics-port', () => {
  it("serves celery-exporter's task counters, runtime histogram and worker gauges", async () => {
    const ok = await Promise.all(
      [1, 2, 3].map((x) => app.sendTask<number>('obs.metrics.ok', { args: [x], queue })),
    );
    const bad = await Promise.all([1, 2].map(() => app.sendTask('obs.metrics.fail', { queue })));
    expect(await Promise.all(ok.map((r) => r.get({ timeout: 30 })))).toEqual([2, 4, 6]);
    for (const r of bad) await expect(r.get({ timeout: 30 })).rejects.toThrow('bad value');
    const text = await scrape(port);
    const okL = `name="obs.metrics.ok",hostname="${host}",queue_name="${queue}"`;
    const badL = `name="obs.metrics.fail",hostname="${host}",queue_name="${queue}"`;
    const lines = text.split('\n');
    const has = (l: string): void => {
      expect(lines).toContain(l);
    };
    has('# TYPE celery_task_received_total counter');
    has(`celery_task_received_total{${okL}} 3`);
    has(`celery_task_started_total{${okL}} 3`);
    has(`celery_task_succeeded_total{${okL}} 3`);
    has(`celery_task_received_total{${badL}} 2`);
    has(`celery_task_succeeded_total{${badL}} 0`);
    has(
      `celery_task_failed_total{name="obs.metrics.fail",hostname="${host}",exception="ValueError",queue_name="${queue}"} 2`,
    );
    // Counters not hit are instantiated at 0 for the same labels, as celery-exporter does.
    has(`celery_task_retried_total{${okL}} 0`);
    has(
      `celery_task_failed_total{name="obs.metrics.ok",hostname="${host}",exception="",queue_name="${queue}"} 0`,
    );
    has('# TYPE celery_task_runtime histogram');
    has(`celery_task_runtime_count{${okL}} 3`);
    has(`celery_task_runtime_bucket{le="+Inf",${okL}} 3`);
    expect(
      lines.filter((l) => l.startsWith(`celery_task_runtime_bucket{`) && l.includes(okL)),
    ).toHaveLength(15);
    has(`celery_worker_up{hostname="${host}"} 1`);
    has(`celery_worker_tasks_active{hostname="${host}"} 0`);
  });
});

/**
 * The real celery-exporter (danihodovic/celery-exporter 0.11.2, PyPI `prometheus-exporter-celery`)
 * watching two estates that differ only in the worker: a Python Celery 5.7 worker and the TS
 * worker, each on a private Redis, fed the same task mix by a real Celery 5.7 producer with
 * `task_send_sent_event` (`python-peers/peer/exporter_producer.py`). The exporter must produce
 * the same series for both (it works from the events), and the TS worker's own `/metrics` must
 * carry celery-exporter's names, types, labels and counts.
 */
const TASKS = { add: 'conformance.add', fail: 'conformance.fail', retry: 'conformance.retry' };
/**
 * Per counter, the count per task name after the producer's mix (see exporter_producer.py). The
 * revoked count is checked as a total only: the task revoked before it arrived has no
 * task-received, so celery-exporter knows its name only if the producer's task-sent reached it
 * before the worker's task-revoked, and labels it `name="None"` otherwise (seen with both
 * workers).
 */
const EXPECTED: Record<string, Record<string, number>> = {
  celery_task_sent_total: { [TASKS.add]: 5, [TASKS.fail]: 2, [TASKS.retry]: 1 },
  celery_task_received_total: { [TASKS.add]: 4, [TASKS.fail]: 2, [TASKS.retry]: 2 },
  celery_task_started_total: { [TASKS.add]: 3, [TASKS.fail]: 2, [TASKS.retry]: 2 },
  celery_task_succeeded_total: { [TASKS.add]: 3, [TASKS.retry]: 1 },
  celery_task_failed_total: { [TASKS.fail]: 2 },
  celery_task_retried_total: { [TASKS.retry]: 1 },
  celery_task_revoked_total: { [TASKS.add]: 2 },
  celery_task_rejected_total: {},
};
const BY_TOTAL_ONLY = new Set(['celery_task_revoked_total']);
/** What only celery-exporter has: a producer's event, and its own broker/`inspect` polling. */
const EXPORTER_ONLY = [
  'celery_task_sent_total',
  'celery_queue_length',
  'celery_active_consumer_count',
  'celery_active_worker_count',
  'celery_active_process_count',
];

const sum = (xs: Iterable<number>): number => [...xs].reduce((a, b) => a + b, 0);

/** Counts per task name of one family's samples named `sample` (summed over the other labels). */
function countsByName(f: Family | undefined, sample?: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of f?.samples ?? []) {
    if (sample !== undefined && s.name !== sample) continue;
    if (s.value === 0) continue;
    const n = s.labels.name ?? '';
    out[n] = (out[n] ?? 0) + s.value;
  }
  return out;
}

/** Every counter of EXPECTED reached its total (events are asynchronous to the results). */
function settled(m: Map<string, Family>, withSent: boolean): boolean {
  return Object.entries(EXPECTED).every(
    ([name, want]) =>
      (!withSent && name === 'celery_task_sent_total') ||
      sum(Object.values(countsByName(m.get(name)))) === sum(Object.values(want)),
  );
}

/**
 * A family's shape: type, help and label names (without prometheus_client's `_created`
 * companions, which are separate gauge families in the text format).
 */
function shapes(
  m: Map<string, Family>,
): Record<string, { type: string; help: string; labels: string[] }> {
  const out: Record<string, { type: string; help: string; labels: string[] }> = {};
  for (const [name, f] of m) {
    if (name.endsWith('_created')) continue;
    const labels = new Set<string>();
    for (const s of f.samples) for (const k of Object.keys(s.labels)) if (k !== 'le') labels.add(k);
    out[name] = { type: f.type, help: f.help, labels: [...labels].sort() };
  }
  return out;
}

/** The bucket bounds of the runtime histogram. */
function buckets(m: Map<string, Family>): string[] {
  const les = (m.get('celery_task_runtime')?.samples ?? []).map((s) => s.labels.le ?? '');
  return [...new Set(les.filter(Boolean))].sort();
}

function gauge(m: Map<string, Family>, name: string): number[] {
  return (m.get(name)?.samples ?? []).map((s) => s.value);
}

async function pollUntil(
  port: number,
  ok: (m: Map<string, Family>) => boolean,
): Promise<Map<string, Family>> {
  let last = new Map<string, Family>();
  // celery-exporter answers a scrape after its `inspect` calls (about 2 s each).
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    try {
      last = parsePrometheus(await scrapeText(port));
      if (ok(last)) return last;
    } catch {
      /* not serving yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return last;
}

function runProducer(url: string, queue: string, node: string): Promise<Record<string, string>> {
  return new Promise((res, rej) => {
    const child = spawn(
      join(PEERS, '.venv-5.7', 'bin', 'python'),
      ['-m', 'peer.exporter_producer', queue, node],
      {
        cwd: PEERS,
        env: {
          ...process.env,
          CELERY_BROKER_URL: url,
          CELERY_RESULT_BACKEND: url,
          PYTHONWARNINGS: 'ignore',
        },
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      if (code !== 0)
        rej(new Error(`exporter_producer exited ${String(code)}: ${err.slice(-2000)}`));
      else res((JSON.parse(out.trim()) as { states: Record<string, string> }).states);
    });
  });
}

interface Estate {
  states: Record<string, string>;
  /** celery-exporter's scrape once every event was counted. */
  exporter: Map<string, Family>;
  /** The TS worker's own `/metrics` (`--metrics-port`). */
  ours?: Map<string, Family>;
}

/**
 * One estate on its own private Redis: celery-exporter, then the worker (Python Celery 5.7,
 * `python-peers/worker.sh -E`, or `celery-wire worker -E --metrics-port`), then the producer.
 */
async function runEstate(kind: 'python' | 'ts'): Promise<Estate> {
  const redis = privateRedis();
  const url = `redis://127.0.0.1:${String(redis.port)}/0`;
  const queue = `exp-${kind}-${tag}`;
  const node = `${kind}-exp-${tag}@${host}`;
  const stoppers: (() => Promise<void>)[] = [];
  try {
    const exporter = await startCeleryExporter(url);
    stoppers.push(() => exporter.stop());
    const metricsPort = randomPort();
    if (kind === 'python') {
      const w = await startPythonWorker({
        line: '5.7',
        brokerUrl: url,
        resultBackend: url,
        queues: queue,
        nodename: node,
      });
      stoppers.unshift(() => w.stop());
    } else {
      const w = await startNodeWorker({
        args: [
          '--app',
          join(ROOT, 'conformance', 'app', 'index.ts'),
          ...['-Q', queue, '-n', node, '-c', '2', '-E', '-b', url, '--backend', url],
          ...['--metrics-port', String(metricsPort), '--metrics-host', '127.0.0.1'],
        ],
      });
      stoppers.unshift(() => w.stop());
    }
    // The exporter sees the worker (worker-online / heartbeat) before any task is sent.
    await pollUntil(exporter.port, (m) =>
      (m.get('celery_worker_up')?.samples ?? []).some(
        (s) => s.labels.hostname === host && s.value === 1,
      ),
    );
    const states = await runProducer(url, queue, node);
    const exp = await pollUntil(exporter.port, (m) => settled(m, true));
    if (kind === 'python') return { states, exporter: exp };
    return { states, exporter: exp, ours: await pollUntil(metricsPort, (m) => settled(m, false)) };
  } finally {
    for (const s of stoppers) await s();
    redis.stop();
  }
}

let py: Estate;
let ts: Estate;

describe('against the real celery-exporter (Python 5.7 worker vs TS worker, same task mix)', () => {
  beforeAll(async () => {
    [py, ts] = await Promise.all([runEstate('python'), runEstate('ts')]);
  }, 300_000);

  it('both workers bring the mix to the same states', () => {
    const want = {
      ok0: 'SUCCESS',
      ok1: 'SUCCESS',
      ok2: 'SUCCESS',
      fail0: 'FAILURE',
      fail1: 'FAILURE',
      retry: 'SUCCESS',
      expired: 'REVOKED',
      revoked: 'REVOKED',
    };
    expect(py.states).toEqual(want);
    expect(ts.states).toEqual(want);
  });

  it('celery-exporter watching the TS worker shows the families, types, help and labels it shows for Python', () => {
    const p = shapes(py.exporter);
    expect(Object.keys(p)).toEqual(expect.arrayContaining(Object.keys(EXPECTED)));
    expect(shapes(ts.exporter)).toEqual(p);
    expect(buckets(ts.exporter)).toEqual(buckets(py.exporter));
  });

  it.each([
    ['Python worker', () => py.exporter],
    ['TS worker', () => ts.exporter],
  ])('celery-exporter counts each state of the mix for the %s', (_, m) => {
    for (const [name, want] of Object.entries(EXPECTED)) {
      const got = countsByName(m().get(name));
      if (BY_TOTAL_ONLY.has(name)) expect([name, sum(Object.values(got))]).toEqual([name, 2]);
      else expect([name, got]).toEqual([name, want]);
    }
    expect(countsByName(m().get('celery_task_runtime'), 'celery_task_runtime_count')).toEqual({
      [TASKS.add]: 3,
      [TASKS.retry]: 1,
    });
    expect(gauge(m(), 'celery_worker_up')).toEqual([1]);
    expect(gauge(m(), 'celery_worker_tasks_active')).toEqual([0]);
    expect(gauge(m(), 'celery_queue_length')).toEqual([0]);
    expect(gauge(m(), 'celery_active_worker_count')).toEqual([1]);
  });

  it("the TS worker's own /metrics has celery-exporter's families, types, help and labels", () => {
    const ours = ts.ours ?? new Map<string, Family>();
    const theirs = Object.entries(shapes(ts.exporter)).filter(([n]) => !EXPORTER_ONLY.includes(n));
    expect(shapes(ours)).toEqual(Object.fromEntries(theirs));
    expect(buckets(ours)).toEqual(buckets(ts.exporter));
  });

  it('… and the counts celery-exporter derives from the events, per task name', () => {
    const ours = ts.ours ?? new Map<string, Family>();
    for (const [name, want] of Object.entries(EXPECTED)) {
      if (name === 'celery_task_sent_total') continue;
      // Ours knows every name (it has the message); the exporter's total is the same.
      expect([name, countsByName(ours.get(name))]).toEqual([name, want]);
      expect([name, sum(Object.values(countsByName(ts.exporter.get(name))))]).toEqual([
        name,
        sum(Object.values(want)),
      ]);
    }
    expect(countsByName(ours.get('celery_task_runtime'), 'celery_task_runtime_count')).toEqual(
      countsByName(ts.exporter.get('celery_task_runtime'), 'celery_task_runtime_count'),
    );
    // queue_name: ours is the queue the task came from, which is what celery-exporter shows
    // when the producer's task-sent reached it first (and `celery` when it did not).
    const queues = new Set(
      [...ours.values()].flatMap((f) => f.samples.map((s) => s.labels.queue_name)),
    );
    expect([...queues].filter(Boolean)).toEqual([`exp-ts-${tag}`]);
    const exporterQueues = new Set(
      (ts.exporter.get('celery_task_sent_total')?.samples ?? [])
        .filter((s) => s.value > 0)
        .map((s) => s.labels.queue_name),
    );
    expect([...exporterQueues]).toEqual([`exp-ts-${tag}`]);
  });
});
