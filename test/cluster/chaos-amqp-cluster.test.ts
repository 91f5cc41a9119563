import { createApp, type CeleryApp } from '../../src/app/app';
import { AmqpBroker } from '../../src/brokers/amqp/amqp-broker';
import type { BrokerStatus } from '../../src/brokers/broker';
import { defineTask, type TaskContext } from '../../src/worker/task';
import type { Worker } from '../../src/worker/worker';
import {
  LedgerReader,
  clusterScript,
  ctl,
  figures,
  pySent,
  sleep,
  startPyProducer,
  startPyWorker,
  type Ledger,
  type PyProcess,
} from '../support/cluster/cluster';
import { uniq } from '../support/worker/int-helpers';

jest.setTimeout(330_000);

/**
 * A REAL 3-node RabbitMQ cluster (`scripts/rabbitmq-cluster.sh`: rabbit-c1..c3@localhost on
 * 127.0.0.1:5681-5683, joined with `rabbitmqctl join_cluster`) with two quorum queues replicated
 * on all three nodes. Tasks flow both ways through it while the node everyone is connected to
 * (the first of the failover list) is stopped with `rabbitmqctl stop_app`:
 *   Python Celery 5.7 client → TS worker (queue `…-ts`),
 *   Node client → Python Celery 5.7 worker (queue `…-py`).
 * Every side uses the failover URL list as Celery writes it. Lost must be 0, duplicates only in
 * the at-least-once window, and the recovery is logged in Celery's words on both workers.
 */
const RUN = uniq('cl');
const TS_Q = `cluster-${RUN}-ts`;
const PY_Q = `cluster-${RUN}-py`;
const N = 120;
const TASK_MS = 25;
const PACE_MS = 25;
const NODE1 = 'amqp://guest:**@127.0.0.1:5681//';
/**
 * Celery 5.7's own way of dying in this failover. 5.7 declares the worker's pidbox queue
 * exclusive (celery #10287, kombu #2531). When the worker reconnects to a surviving node, it can
 * find that queue still held for its old connection on the stopped node. kombu raises
 * `ResourceLocked` from `Pidbox.start`, and the worker exits with "Unrecoverable error". This was
 * seen in 1 of 5 runs on 2026-12-02; the TS worker goes on in the same failover. Its tasks
 * stay queued, with no consumer. This test tolerates only that exit. It then starts a
 * replacement under a new node name, as a supervisor would (the old name's exclusive queue
 * stays locked while its home node is down), and still requires lost 0.
 */
const PIDBOX_LOCKED =
  /Unrecoverable error: ResourceLocked\(405, "RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '[^']+\.celery\.pidbox'/;

let urls: string[] = [];
let workerApp: CeleryApp | undefined;
let worker: Worker | undefined;
let app: CeleryApp | undefined;
let pyWorker: PyProcess | undefined;
/** The Python worker started in place of one Celery 5.7 killed itself (see below). */
let pyReplacement: PyProcess | undefined;
let pyProducer: PyProcess | undefined;
const ledger = new LedgerReader();
const tsLog: string[] = [];
const clientStatus: BrokerStatus[] = [];

const tsRecord = defineTask(
  'cluster.ts_record',
  async (ctx: TaskContext, run: unknown, id: unknown, ms: unknown) => {
    await ledger.redis.hincrby(`cluster:${String(run)}:started`, String(id), 1);
    // Which copy ran: a broker redelivery (redelivered, x-delivery-count) or a second message.
    await ledger.trace(
      String(run),
      `${String(id)} redelivered=${String(ctx.deliveryInfo.redelivered)} ` +
        `x-delivery-count=${JSON.stringify(ctx.headers['x-delivery-count'] ?? null)} ` +
        `at=${(Date.now() / 1000).toFixed(3)}`,
    );
    await sleep(Number(ms));
    await ledger.redis.hincrby(`cluster:${String(run)}:done`, String(id), 1);
    return id;
  },
  { params: ['run', 'id', 'ms'], bind: true, acksLate: true, ignoreResult: true },
);

beforeAll(async () => {
  urls = (await clusterScript(['start'])).trim().split(';');
  expect(urls).toHaveLength(3);
}, 300_000);

afterAll(async () => {
  // Everything is stopped even when the test failed half-way; the cluster goes last.
  await pyProducer?.stop().catch(() => undefined);
  await pyWorker?.stop().catch(() => undefined);
  await pyReplacement?.stop().catch(() => undefined);
  await worker?.shutdown().catch(() => undefined);
  await app?.close().catch(() => undefined);
  await workerApp?.close().catch(() => undefined);
  await ledger.cleanup(`${RUN}-ts`, `${RUN}-py`).catch(() => undefined);
  ledger.close();
  await clusterScript(['stop']);
}, 120_000);

it('stop the node everyone is connected to while tasks flow both ways: lost 0, recovery logged', async () => {
  const list = urls.join(';');
  // The estate as a user configures it, the same settings as cluster_app.py: both quorum queues
  // in `taskQueues` (Celery's `task_queues`), the failover list, acks_late, prefetch 1.
  const estate = {
    brokerUrl: list,
    brokerFailoverStrategy: 'round-robin',
    resultBackend: 'disabled',
    taskQueues: [TS_Q, PY_Q].map((q) => ({
      name: q,
      exchange: q,
      exchangeType: 'direct' as const,
      routingKey: q,
      queueArguments: { 'x-queue-type': 'quorum' },
    })),
    taskAcksLate: true,
    taskIgnoreResult: true,
    workerPrefetchMultiplier: 1,
  } as const;

  // TS worker, as `celery-wire worker -Q <ts queue> -c 4` would be built.
  workerApp = createApp({ ...estate, tasks: [tsRecord] });
  worker = workerApp.worker({
    queues: [TS_Q],
    concurrency: 4,
    hostname: `ts-${RUN}@%h`,
    logger: { log: (level, msg) => tsLog.push(`[${level}] ${msg}`) },
  });
  await worker.start();

  const py = { brokerUrl: list, tsQueue: TS_Q, pyQueue: PY_Q };
  pyWorker = await startPyWorker({ ...py, name: `py-${RUN}@%h` });

  // Quorum queues, replicated on the three nodes (initial group size = cluster size), declared
  // by the two workers from their settings.
  const queues = await ctl(1, ['list_queues', '-q', 'name', 'type', 'members']);
  for (const q of [TS_Q, PY_Q]) {
    const line = queues.split('\n').find((l) => l.startsWith(`${q}\t`)) ?? '';
    expect(line).toMatch(/\tquorum\t/);
    for (const n of [1, 2, 3]) expect(line).toContain(`rabbit-c${String(n)}@localhost`);
  }

  // Node client: `broker_url` given as a list (Celery's list form), the same queue settings.
  // The client's broker warns through console.warn (re-sent publishes among them).
  const warnings: string[] = [];
  const realWarn = console.warn;
  jest.spyOn(console, 'warn').mockImplementation((...a: unknown[]) => {
    warnings.push(a.map(String).join(' '));
    realWarn(...a);
  });
  app = createApp({ ...estate, brokerUrl: urls });
  const broker = await app.broker();
  if (!(broker instanceof AmqpBroker)) throw new Error('the app built no AMQP broker');
  broker.onStatus((s) => clientStatus.push(s));
  expect(broker.target).toBe(NODE1);

  const tsIds = Array.from({ length: N }, (_, i) => `${RUN}-ts-${String(i)}`);
  const pyIds = Array.from({ length: N }, (_, i) => `${RUN}-py-${String(i)}`);
  pyProducer = startPyProducer({
    ...py,
    run: `${RUN}-ts`,
    ids: tsIds,
    ms: TASK_MS,
    paceMs: PACE_MS,
  });
  let nodeSent = 0;
  const sendErrors: Error[] = [];
  const nodeProducer = (async () => {
    for (const id of pyIds) {
      try {
        await app.sendTask('cluster.py_record', {
          args: [`${RUN}-py`, id, TASK_MS],
          taskId: id,
          queue: PY_Q,
        });
        nodeSent++;
      } catch (e) {
        sendErrors.push(e as Error);
      }
      await sleep(PACE_MS);
    }
  })();

  // Stop node 1 once a third went each way.
  const third = Math.floor(N / 3);
  const end = Date.now() + 60_000;
  while ((pySent(pyProducer) < third || nodeSent < third) && Date.now() < end) await sleep(50);
  const before = { ts: await ledger.read(`${RUN}-ts`), py: await ledger.read(`${RUN}-py`) };
  await ctl(1, ['stop_app']);
  const after = { ts: await ledger.read(`${RUN}-ts`), py: await ledger.read(`${RUN}-py`) };

  await nodeProducer;
  const pyExit = await pyProducer.exited;
  if (pyExit !== 0) console.log(`Python producer exited ${String(pyExit)}:\n${pyProducer.log()}`);
  expect(pyExit).toBe(0);
  // Sends the Python producer repeated: kombu's own retry inside the publish (`retry`, after a
  // connection error) and the producer's resend once those ran out (`resend`), same id.
  const resent = [...pyProducer.log().matchAll(/^(?:retry|resend) (\S+) /gm)].map(
    (m) => m[1] ?? '',
  );
  // Sends the Node client repeated because their confirm was lost with the node (it says so).
  const nodeResent = warnings.flatMap((w) =>
    [...w.matchAll(/sending them again \(ids: ([^)]*)\)/g)].flatMap((m) =>
      (m[1] ?? '').split(', '),
    ),
  );
  const worker57 = pyWorker;
  const pyFirst = await Promise.race([
    ledger
      .waitAllDone(`${RUN}-py`, pyIds, 90_000)
      .then(() => 'done' as const)
      .catch(() => 'done' as const), // the ledger closed after a failed test
    worker57.exited.then(() => 'exited' as const),
  ]);
  if (pyFirst === 'exited') {
    const log = worker57.log();
    console.log(`The Python 5.7 worker exited during the failover (tail):\n${log.slice(-2500)}`);
    expect(log).toMatch(PIDBOX_LOCKED); // no other exit is tolerated
    pyReplacement = await startPyWorker({ ...py, name: `py2-${RUN}@%h` });
  }
  const final = {
    ts: await ledger.waitAllDone(`${RUN}-ts`, tsIds, 90_000),
    py: await ledger.waitAllDone(`${RUN}-py`, pyIds, 90_000),
  };
  const ts = figures(tsIds, before.ts, after.ts, final.ts);
  const pyf = figures(pyIds, before.py, after.py, final.py);
  const runs = (l: Ledger): number => Object.values(l.started).reduce((a, b) => a + b, 0);
  console.log(
    `cluster failover: Python 5.7 → TS worker: ${String(N)} tasks, lost ${String(ts.lost.length)}, ` +
      `duplicates ${String(ts.duplicates.length)} (window ${String(ts.window.length)}, runs ${String(runs(final.ts))}); ` +
      `(Python producer resent ${String(new Set(resent).size)}); ` +
      `(Node client resent ${String(new Set(nodeResent).size)}) ` +
      `Node → Python 5.7 worker: ${String(N)} tasks, lost ${String(pyf.lost.length)}, ` +
      `duplicates ${String(pyf.duplicates.length)} (window ${String(pyf.window.length)}, runs ${String(runs(final.py))})` +
      (pyReplacement
        ? '; the Python 5.7 worker died on its locked pidbox queue and was replaced'
        : ''),
  );

  // Every copy of every task run twice, in or out of the window: a broker redelivery says
  // redelivered=true on its second run; a producer's second message says false.
  const traces = {
    ts: await ledger.traceOf(`${RUN}-ts`, ts.duplicates),
    py: await ledger.traceOf(`${RUN}-py`, pyf.duplicates),
  };
  if (traces.ts.length + traces.py.length > 0) {
    console.log(`runs of the duplicated tasks:\n${[...traces.ts, ...traces.py].join('\n')}`);
  }
  const tsOutside = ts.duplicates.filter((id) => !ts.window.includes(id) && !resent.includes(id));
  const pyOutside = pyf.duplicates.filter(
    (id) => !pyf.window.includes(id) && !nodeResent.includes(id),
  );
  if (ts.lost.length > 0 || pyf.lost.length > 0 || tsOutside.length + pyOutside.length > 0) {
    // Lost, or still queued behind a consumer that stopped? The queues and both workers' logs.
    const depth = await ctl(2, [
      'list_queues',
      '-q',
      'name',
      'messages_ready',
      'messages_unacknowledged',
      'consumers',
    ]).catch((e: unknown) => String(e));
    console.log(
      `queues after the failover:\n${depth}\nPython worker log (tail):\n${pyWorker.log().slice(-6000)}\n` +
        (pyReplacement
          ? `Replacement Python worker log (tail):\n${pyReplacement.log().slice(-3000)}\n`
          : '') +
        `TS worker log (tail):\n${tsLog.slice(-40).join('\n')}\n` +
        `TS worker log lines of the tasks run twice outside the window:\n${tsLog
          .filter(
            (l) => tsOutside.some((id) => l.includes(`[${id}]`)) || /pidbox|Connect|lost/.test(l),
          )
          .join('\n')}\nPython producer log:\n${pyProducer.log().slice(-3000)}`,
    );
  }
  expect(sendErrors).toEqual([]);
  expect(nodeSent).toBe(N);
  expect(pyProducer.log()).toContain(`done ${String(N)}`);
  expect(ts.lost).toEqual([]);
  expect(pyf.lost).toEqual([]);
  // Each task once, outside the at-least-once window.
  expect(tsOutside).toEqual([]);
  expect(pyProducer.log()).not.toMatch(/^gave up /m);
  expect(pyOutside).toEqual([]);

  // The queues outlived their node: led by a surviving member now.
  const leaders = await ctl(2, ['list_queues', '-q', 'name', 'leader']);
  for (const q of [TS_Q, PY_Q]) {
    const line = leaders.split('\n').find((l) => l.startsWith(`${q}\t`)) ?? '';
    expect(line).toMatch(/rabbit-c[23]@localhost/);
  }

  // Recovery in Celery's words: the TS worker…
  const tsText = tsLog.join('\n');
  expect(tsText).toContain(
    '[warn] consumer: Connection to broker lost. Trying to re-establish the connection...',
  );
  expect(tsText).toMatch(
    /\[error\] consumer: Cannot connect to amqp:\/\/guest:\*\*@127\.0\.0\.1:5681\/\/: .*ECONNREFUSED.*\.\nWill retry using next failover\./,
  );
  expect(tsText).toMatch(/\[info\] Connected to amqp:\/\/guest:\*\*@127\.0\.0\.1:568[23]\/\//);
  // …the Python 5.7 worker…
  const pyText = pyWorker.log();
  expect(pyText).toContain(
    'consumer: Connection to broker lost. Trying to re-establish the connection...',
  );
  expect(pyText).toMatch(
    /Cannot connect to amqp:\/\/guest:\*\*@127\.0\.0\.1:5681\/\/: .*\.\nWill retry using next failover\./,
  );
  expect(pyText).toMatch(/Connected to amqp:\/\/guest:\*\*@127\.0\.0\.1:568[23]\/\//);
  // …and the Node client's connection went to another node.
  expect(clientStatus.some((s) => s.state === 'lost' && s.target === NODE1)).toBe(true);
  expect(clientStatus.at(-1)).toMatchObject({ state: 'connected' });
  expect(clientStatus.at(-1)?.target).not.toBe(NODE1);
});
