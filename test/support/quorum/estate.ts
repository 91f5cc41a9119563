import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { CeleryConfig, CeleryLine } from '../../../src/config/config';
import { defineTask, type TaskContext } from '../../../src/worker/task';
import type { PyValue } from '../../../src/serialization/py-values';
import { PEERS, ROOT, python, runPython, uniq } from '../worker/int-helpers';

/** Test support for quorum-queue estates (issue 9): a private vhost per estate. */
export const QUORUM_REDIS = process.env.QUORUM_TEST_REDIS ?? 'redis://127.0.0.1:6379/11';

function run(cmd: string, args: readonly string[]): Promise<string> {
  return new Promise((res, rej) => {
    execFile(cmd, [...args], { timeout: 90_000 }, (err, stdout, stderr) => {
      if (err) rej(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else res(stdout);
    });
  });
}

/** A fresh vhost (scripts/rabbitmq-vhost.sh); `drop()` deletes it with all it holds. */
export async function createVhost(prefix = 'quorum'): Promise<{
  name: string;
  url: string;
  drop(): Promise<void>;
}> {
  const name = uniq(prefix);
  const script = join(ROOT, 'scripts', 'rabbitmq-vhost.sh');
  await run('bash', [script, 'create', name]);
  return {
    name,
    url: `amqp://guest:guest@127.0.0.1:5672/${name}`,
    drop: async () => {
      await run('bash', [script, 'delete', name]);
    },
  };
}

/** `rabbitmqctl list_* -p vhost` rows, sorted, for comparing two estates' declarations. */
export async function topologyOf(vhost: string): Promise<{
  queues: string[];
  exchanges: string[];
  bindings: string[];
}> {
  const rows = async (what: string, cols: string[]): Promise<string[]> =>
    (await run('rabbitmqctl', [what, '-q', '--no-table-headers', '-p', vhost, ...cols]))
      .split('\n')
      .filter((l) => l.trim() !== '')
      .sort();
  return {
    queues: await rows('list_queues', ['name', 'durable', 'auto_delete', 'exclusive', 'arguments']),
    exchanges: (await rows('list_exchanges', ['name', 'type', 'durable', 'auto_delete'])).filter(
      (l) => l.startsWith('celery_delayed') || l.startsWith('quorum-'),
    ),
    bindings: (
      await rows('list_bindings', [
        'source_name',
        'destination_name',
        'destination_kind',
        'routing_key',
      ])
    ).filter((l) => !l.startsWith('\t')),
  };
}

/** The Python estate's settings, as the TypeScript side is configured to match them. */
export function estateConfig(
  line: CeleryLine,
  url: string,
  queue: string,
  exchangeType: 'topic' | 'direct' = 'topic',
): Partial<CeleryConfig> {
  return {
    brokerUrl: url,
    resultBackend: QUORUM_REDIS,
    celeryLine: line,
    taskDefaultQueue: queue,
    taskDefaultExchange: queue,
    taskDefaultRoutingKey: queue,
    taskDefaultExchangeType: exchangeType,
    taskDefaultQueueType: 'quorum',
  };
}

/** What `quorum.where` / `quorum.flaky` report (both peers). */
export interface Where {
  at: number;
  exchange: string | null;
  routing_key: string | null;
  retries: number;
  /** The worker's node name. */
  host: string;
}

function whereOf(ctx: TaskContext): Record<string, PyValue> {
  return {
    at: Date.now() / 1000,
    exchange: ctx.deliveryInfo.exchange,
    routing_key: ctx.deliveryInfo.routing_key,
    retries: ctx.retries,
    host: ctx.hostname,
  };
}

/** The TypeScript twins of python-peers/peer/quorum_app.py's tasks. */
export const quorumTasks = [
  defineTask('quorum.add', (x: PyValue, y: PyValue) => Number(x) + Number(y)),
  defineTask('quorum.tsum', (values: PyValue) =>
    (values as PyValue[]).reduce<number>((a, v) => a + Number(v), 0),
  ),
  defineTask('quorum.where', (ctx: TaskContext) => whereOf(ctx), { bind: true }),
  defineTask(
    'quorum.flaky',
    (ctx: TaskContext, countdown: PyValue) =>
      ctx.retries < 1 ? ctx.retry({ countdown: Number(countdown) }) : whereOf(ctx),
    { bind: true, params: ['countdown'] },
  ),
];

function peerEnv(
  line: CeleryLine,
  url: string,
  queue: string,
  exchangeType: string,
): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PYTHONPATH: PEERS,
    CELERY_LINE: line,
    CELERY_BROKER_URL: url,
    CELERY_RESULT_BACKEND: QUORUM_REDIS,
    QUORUM_QUEUE: queue,
    QUORUM_EXCHANGE_TYPE: exchangeType,
  };
}

/** One producer run of peer.quorum_app: publish the calls, wait for their results. */
export type PyCall =
  | { task: string; args?: PyValue[]; countdown?: number }
  | {
      /** `chain(*steps)`, `group(steps)` or `chord(steps, body)`, applied with `apply_async`. */
      canvas: 'chain' | 'group' | 'chord';
      steps: [string, PyValue[]][];
      body?: [string, PyValue[]];
      countdown?: number;
    };

/** The canvas calls the estate tests send (chain → 113, group → [2, 4], chord → 12). */
export const PY_CANVAS: PyCall[] = [
  {
    canvas: 'chain',
    steps: [
      ['quorum.add', [1, 2]],
      ['quorum.add', [10]],
      ['quorum.add', [100]],
    ],
  },
  {
    canvas: 'group',
    steps: [
      ['quorum.add', [1, 1]],
      ['quorum.add', [2, 2]],
    ],
  },
  {
    canvas: 'chord',
    steps: [
      ['quorum.add', [1, 1]],
      ['quorum.add', [2, 2]],
      ['quorum.add', [3, 3]],
    ],
    body: ['quorum.tsum', []],
  },
];
export interface PyResult {
  id: string;
  state: string;
  value?: unknown;
  error?: string;
  published: number;
}
export async function pyProduce(
  line: CeleryLine,
  url: string,
  queue: string,
  calls: PyCall[],
  exchangeType = 'topic',
): Promise<PyResult[]> {
  const out = await runPython<{ results: PyResult[] }>(
    ['-m', 'peer.quorum_app'],
    peerEnv(line, url, queue, exchangeType),
    { calls, timeout: 60 },
    line,
    120_000,
  );
  return out.results;
}

/** A real Celery worker of peer.quorum_app; resolves once ready. */
export function startPyQuorumWorker(
  line: CeleryLine,
  url: string,
  queue: string,
  exchangeType = 'topic',
): Promise<{ log(): string; stop(): Promise<void> }> {
  const child = spawn(
    python(line),
    [
      '-m',
      'celery',
      '-A',
      'peer.quorum_app',
      'worker',
      '-Q',
      queue,
      '-n',
      `${uniq('py')}@%h`,
      '--without-gossip',
      '--without-mingle',
      '--without-heartbeat',
      '-l',
      'info',
      '-P',
      'solo',
      '-c',
      '2',
    ],
    {
      cwd: PEERS,
      env: peerEnv(line, url, queue, exchangeType),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const done = new Promise((r) => child.once('exit', r));
    try {
      process.kill(-(child.pid ?? 0), 'SIGTERM');
    } catch {
      return;
    }
    const t = setTimeout(() => {
      try {
        process.kill(-(child.pid ?? 0), 'SIGKILL');
      } catch {
        /* gone */
      }
    }, 8000);
    await done;
    clearTimeout(t);
  };
  return new Promise((res, rej) => {
    const timer = setTimeout(() => {
      void stop();
      rej(new Error(`python worker not ready: ${out}`));
    }, 60_000);
    const onData = (b: Buffer): void => {
      out += b.toString();
      if (/ ready\.\s*$/m.test(out)) {
        clearTimeout(timer);
        res({ log: () => out, stop });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`python worker exited (${String(code)}): ${out}`));
    });
  });
}

/** `rabbitmqctl list_consumers -p vhost queue_name prefetch_count` rows for `queue`. */
export async function consumerPrefetch(vhost: string, queue: string): Promise<number[]> {
  const out = await run('rabbitmqctl', [
    'list_consumers',
    '-q',
    '--no-table-headers',
    '-p',
    vhost,
    'queue_name',
    'prefetch_count',
  ]);
  return out
    .split('\n')
    .map((l) => l.split('\t'))
    .filter((c) => c[0] === queue)
    .map((c) => Number(c[1]));
}

/** `rabbitmqctl list_queues -p vhost name durable auto_delete exclusive arguments`. */
export async function queueRows(
  vhost: string,
): Promise<
  { name: string; durable: string; auto_delete: string; exclusive: string; arguments: string }[]
> {
  const out = await run('rabbitmqctl', [
    'list_queues',
    '-q',
    '--no-table-headers',
    '-p',
    vhost,
    'name',
    'durable',
    'auto_delete',
    'exclusive',
    'arguments',
  ]);
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [name = '', durable = '', autoDelete = '', exclusive = '', args = ''] = l.split('\t');
      return { name, durable, auto_delete: autoDelete, exclusive, arguments: args };
    });
}
