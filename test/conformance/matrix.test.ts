import { randomUUID } from 'node:crypto';
import { casesFor, type CaseContext } from './support/cases';
import { renderMatrix, publishMatrix, type Cell } from './support/matrix';
import { judge, type Observation } from './support/observe';
import { runNodeToPython, type Transport } from './support/run-node-to-python';
import { runPythonToNode } from './support/run-python-to-node';
import { selectedLines, selectedTransports, type TransportKey } from './support/selection';
import { startNode, startPython, type PeerWorker } from './support/workers';

/**
 * The cross-language conformance run: the catalogue of /work/shared/spec/conformance-tasks.md in
 * both directions (celery-wire client → real Celery worker; real Celery producer → celery-wire
 * worker), for each pinned Celery line, broker/backend, serializer and protocol. Prints the
 * compatibility matrix and writes it to docs/compatibility-matrix.md and the README.
 */
const REDIS = process.env.CONFORMANCE_REDIS_URL ?? 'redis://127.0.0.1:6379/9';
const AMQP = process.env.CONFORMANCE_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672//';
const LINES = selectedLines(process.env.CONFORMANCE_LINES);
const ALL_TRANSPORTS: Record<TransportKey, Transport> = {
  redis: { name: 'Redis / redis', brokerUrl: REDIS, resultBackend: REDIS },
  'amqp-redis': { name: 'RabbitMQ / redis', brokerUrl: AMQP, resultBackend: REDIS },
  'amqp-rpc': { name: 'RabbitMQ / rpc', brokerUrl: AMQP, resultBackend: 'rpc://' },
  'amqp-quorum': {
    name: 'RabbitMQ-quorum / redis',
    brokerUrl: AMQP,
    resultBackend: REDIS,
    config: { taskDefaultQueueType: 'quorum', taskCreateMissingQueueType: 'quorum' },
    env: { CELERY_QUORUM_QUEUES: '1' },
  },
};
const TRANSPORTS: Transport[] = selectedTransports(process.env.CONFORMANCE_TRANSPORTS).map(
  (k) => ALL_TRANSPORTS[k],
);
const DIRECTIONS = ['Node → Python', 'Python → Node'] as const;
const COLUMNS: [CaseContext['serializer'], 1 | 2][] = [
  ['json', 2],
  ['json', 1],
  ['msgpack', 2],
  ['msgpack', 1],
  ['yaml', 2],
  ['yaml', 1],
];
const CELLS = DIRECTIONS.flatMap((d) => COLUMNS.map(([s, p]) => [d, s, p] as const));

const cells: Cell[] = [];

afterAll(() => {
  const md = renderMatrix(cells, new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC');
  process.stdout.write(`\n${md}\n`);
  publishMatrix(md);
});

describe.each(LINES)('Celery %s', (line) => {
  // Quorum-queue estates exist from Celery 5.5 on: older lines have no such row.
  const rows = TRANSPORTS.filter((t) => t.env?.CELERY_QUORUM_QUEUES === undefined || line >= '5.5');
  describe.each(rows)('$name', (t) => {
    const tag = randomUUID().slice(0, 8);
    const pyQueue = `cw-conf-${tag}-py`;
    const tsQueue = `cw-conf-${tag}-ts`;
    const workers: PeerWorker[] = [];
    const observed = new Map<string, Observation[] | Error>();

    beforeAll(async () => {
      // The estate's switches reach every peer process started (and run) in this block.
      const saved = Object.keys(t.env ?? {}).map((k) => [k, process.env[k]] as const);
      Object.assign(process.env, t.env ?? {});
      try {
        await startAndRun();
      } finally {
        for (const [k, v] of saved) {
          if (v === undefined) Reflect.deleteProperty(process.env, k);
          else process.env[k] = v;
        }
      }
    }, 240_000);

    async function startAndRun(): Promise<void> {
      const started = await Promise.allSettled([
        startPython(line, t, pyQueue),
        startNode(line, t, tsQueue),
      ]);
      for (const s of started) if (s.status === 'fulfilled') workers.push(s.value);
      await Promise.all(
        CELLS.map(async ([direction, serializer, protocol]) => {
          const key = `${direction}|${serializer}|${protocol}`;
          const toPython = direction === 'Node → Python';
          const boot = toPython ? started[0] : started[1];
          if (boot.status === 'rejected') {
            observed.set(
              key,
              boot.reason instanceof Error ? boot.reason : new Error(String(boot.reason)),
            );
            return;
          }
          const ctx: CaseContext = {
            serializer,
            protocol,
            line,
            queue: toPython ? pyQueue : tsQueue,
          };
          try {
            const run = toPython ? runNodeToPython : runPythonToNode;
            observed.set(key, await run(t, ctx, casesFor(ctx)));
          } catch (e) {
            observed.set(key, e instanceof Error ? e : new Error(String(e)));
          }
        }),
      );
    }

    afterAll(async () => {
      await Promise.all(workers.map((w) => w.stop()));
    });

    it.each(CELLS)('%s, %s protocol %d', (direction, serializer, protocol) => {
      const ctx: CaseContext = {
        serializer,
        protocol,
        line,
        queue: direction === 'Node → Python' ? pyQueue : tsQueue,
      };
      const cases = casesFor(ctx);
      const got = observed.get(`${direction}|${serializer}|${protocol}`);
      const failures =
        got instanceof Error || got === undefined
          ? cases.map((c) => ({
              name: c.name,
              why: got === undefined ? 'not run' : (got.message.split('\n')[0] ?? ''),
            }))
          : cases.flatMap((c) => {
              const why = judge(
                c,
                got.find((o) => o.name === c.name),
                ctx,
              );
              return why === null ? [] : [{ name: c.name, why }];
            });
      cells.push({
        direction,
        line,
        transport: t.name,
        serializer,
        protocol,
        total: cases.length,
        failures,
      });
      expect(failures).toEqual([]);
    });
  });
});
