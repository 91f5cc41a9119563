import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { dropQueue } from './drain';
import { peerBin, repoRoot, runJson, tsxBin } from './procs';
import { rate, ratio, verdict, type Row } from './table';

/** Where the client rows publish and how many tasks. */
export interface ClientBenchOptions {
  redisUrl: string;
  amqpUrl: string;
  tasks: number;
  pythonTasks: number;
}

const q = (what: string): string => `bench-perf-pub-${what}-${randomUUID().slice(0, 6)}`;

/** Run a publisher child on a fresh queue, then drop the queue. */
async function publisher(
  brokerUrl: string,
  redis: Redis,
  what: string,
  run: (queue: string) => Promise<{ rate: number }>,
): Promise<number> {
  const queue = q(what);
  try {
    return (await run(queue)).rate;
  } finally {
    await dropQueue(brokerUrl, queue, redis);
  }
}

/**
 * The client rows: `sendTask` in a loop and `sendMany`, to Redis (redis backend, as a user who
 * wants results) and RabbitMQ (confirms, backend disabled), beside celery-node's `applyAsync`
 * loop, Python Celery's `send_task` loop and the raw client ceiling, each in its own process.
 */
export async function benchClients(o: ClientBenchOptions, redis: Redis): Promise<Row[]> {
  const n = String(o.tasks);
  const ours = (mode: string, broker: string, backend: string) => (queue: string) =>
    runJson<{ rate: number }>(tsxBin, [
      'bench/producers/publish.ts',
      mode,
      broker,
      backend,
      queue,
      n,
    ]);
  const raw = (kind: string, broker: string) => (queue: string) =>
    runJson<{ rate: number }>(tsxBin, ['bench/producers/raw.ts', kind, broker, queue, n, '900']);
  const python = (broker: string) => (queue: string) =>
    runJson<{ rate: number }>(peerBin('python'), [
      `${repoRoot}/python-peers/peer/client_bench.py`,
      'publish',
      broker,
      queue,
      String(o.pythonTasks),
    ]);
  const r = o.redisUrl;
  const a = o.amqpUrl;
  const step = (s: string): void => void process.stderr.write(`bench: client ${s}\n`);
  step('redis sendTask loop');
  const loop = await publisher(r, redis, 'loop', ours('loop', r, r));
  const awaited = await publisher(r, redis, 'await', ours('await', r, r));
  const many = await publisher(r, redis, 'many', ours('many', r, r));
  step('redis celery-node, python, raw');
  const cn = await publisher(r, redis, 'cn', (queue) =>
    runJson<{ rate: number }>(tsxBin, ['bench/producers/celery-node-publish.ts', r, r, queue, n]),
  );
  const pyR = await publisher(r, redis, 'py', python(r));
  const rawR = await publisher(r, redis, 'raw', raw('redis', r));
  step('rabbitmq');
  const aLoop = await publisher(a, redis, 'aloop', ours('loop', a, 'disabled'));
  const aMany = await publisher(a, redis, 'amany', ours('many', a, 'disabled'));
  const pyA = await publisher(a, redis, 'apy', python(a));
  const rawA = await publisher(a, redis, 'araw', raw('amqp', a));
  const rawAC = await publisher(a, redis, 'arawc', raw('amqp-celery', a));
  const ofRaw = (x: number): string =>
    `${pct(x, rawA)} of raw; ${pct(x, rawAC)} of raw with Celery's headers`;
  return [
    {
      what: `\`sendTask\` ×${n} in a loop (Promise.all) → Redis, redis backend`,
      ours: `${rate(loop)}${ratio(loop, cn)}`,
      node: `${rate(cn)} (\`applyAsync\`)`,
      python: `${rate(pyR)} (\`send_task\`, ignore_result)`,
      ceiling: `${rate(rawR)} (ioredis pipeline)`,
      target: '≥100k/s and ≥2× celery-node',
      verdict: verdict(loop >= 100_000 && loop >= 2 * cn),
    },
    {
      what: '`await sendTask` one at a time → Redis, redis backend',
      ours: rate(awaited),
      target: '',
      verdict: '',
    },
    {
      what: `\`sendMany\` ×${n} → Redis`,
      ours: rate(many),
      ceiling: rate(rawR),
      target: '≥150k/s',
      verdict: verdict(many >= 150_000),
    },
    {
      what: `\`sendTask\` ×${n} in a loop → RabbitMQ, confirms, backend disabled`,
      ours: `${rate(aLoop)} (${ofRaw(aLoop)})`,
      python: rate(pyA),
      ceiling: `${rate(rawA)} (amqplib confirm pipeline); ${rate(rawAC)} with Celery's v2 header table`,
      target: '≥80% of raw',
      verdict: verdict(aLoop >= 0.8 * rawA),
    },
    {
      what: `\`sendMany\` ×${n} → RabbitMQ, confirms`,
      ours: `${rate(aMany)} (${ofRaw(aMany)})`,
      ceiling: `${rate(rawA)}; ${rate(rawAC)}`,
      target: '≥80% of raw',
      verdict: verdict(aMany >= 0.8 * rawA),
    },
  ];
}

const pct = (x: number, of: number): string => `${((x / of) * 100).toFixed(0)}%`;
