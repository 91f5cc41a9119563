import { randomUUID } from 'node:crypto';
import {
  casesFor,
  celeryNotApplicable,
  type CaseContext,
  type ConformanceCase,
} from './support/cases';
import {
  mergeRows,
  publishMatrix,
  publishedRows,
  renderMatrix,
  rowsOf,
  type Cell,
} from './support/matrix';
import { judge, type Observation } from './support/observe';
import { transportOf } from '../../src/client/native-delay';
import { runNodeToPython, type Transport } from './support/run-node-to-python';
import { runStamp } from './support/run-stamp';
import { resolveTransport, stopEstates, TRANSPORT_NAMES } from './support/transports';
import { runPythonToNode } from './support/run-python-to-node';
import { selectedLines, selectedTransports, transportRunsOn } from './support/selection';
import { startNode, startPython, type PeerWorker } from './support/workers';

/**
 * The cross-language conformance run: the catalogue of /work/shared/spec/conformance-tasks.md in
 * both directions (celery-wire client → real Celery worker; real Celery producer → celery-wire
 * worker), for each pinned Celery line, broker/backend, serializer and protocol. Prints the
 * compatibility matrix and writes it to docs/compatibility-matrix.md and the README.
 */
const LINES = selectedLines(process.env.CONFORMANCE_LINES);
const TRANSPORTS = selectedTransports(process.env.CONFORMANCE_TRANSPORTS);
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
/** Wall time of each row (estate start, workers, every cell), printed after the run for CI. */
const timings: string[] = [];

afterAll(async () => {
  await stopEstates();
  const { stamp, run } = runStamp(new Date());
  const now = rowsOf(cells, run);
  process.stdout.write(`\n${renderMatrix(now, stamp)}\n\nRow times:\n${timings.join('\n')}\n`);
  // Rows of earlier runs (other lines, other transports) stay; this run replaces its own.
  publishMatrix(
    renderMatrix(mergeRows(publishedRows(), now, Object.values(TRANSPORT_NAMES)), stamp),
  );
});

describe.each(LINES)('Celery %s', (line) => {
  // A transport has rows only on the lines with such an estate (quorum queues from 5.5 on, …).
  const rows = TRANSPORTS.filter((k) => transportRunsOn(k, line)).map((key) => ({
    key,
    name: TRANSPORT_NAMES[key],
  }));
  describe.each(rows)('$name', ({ key }) => {
    let t: Transport = { name: TRANSPORT_NAMES[key], brokerUrl: '', resultBackend: '' };
    const tag = randomUUID().slice(0, 8);
    const pyQueue = `cw-conf-${tag}-py`;
    const tsQueue = `cw-conf-${tag}-ts`;
    const workers: PeerWorker[] = [];
    const observed = new Map<string, Observation[] | Error>();

    beforeAll(async () => {
      const t0 = performance.now();
      try {
        await runRow();
      } finally {
        timings.push(
          `${line} ${TRANSPORT_NAMES[key]}: ${((performance.now() - t0) / 1000).toFixed(1)} s`,
        );
      }
    }, 900_000);

    async function runRow(): Promise<void> {
      try {
        t = await resolveTransport(key, line);
      } catch (e) {
        // The estate did not start: every cell reports why, none is silently dropped.
        const err = e instanceof Error ? e : new Error(String(e));
        for (const [d, s, p] of CELLS) observed.set(`${d}|${s}|${String(p)}`, err);
        return;
      }
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
    }

    async function startAndRun(): Promise<void> {
      const started = await Promise.allSettled([
        startPython(line, t, pyQueue),
        startNode(line, t, tsQueue),
      ]);
      for (const s of started) if (s.status === 'fulfilled') workers.push(s.value);
      // Two phases, each over all cells at once: a `quietQueue` case (an `expires` shorter than
      // the wait in a busy queue) is sent only once every cell's other cases are done, so the
      // queue in front of the worker is empty again (see ConformanceCase.quietQueue). Only
      // RabbitMQ drops expired messages (kombu's Redis and SQS transports have no TTL), so only
      // its rows pay for the second phase.
      const amqp = transportOf(t.brokerUrl) === 'amqp';
      const inQuietPhase = (c: ConformanceCase): boolean => amqp && c.quietQueue === true;
      for (const quiet of amqp ? [false, true] : [false]) {
        await runPhase(started, (c) => inQuietPhase(c) === quiet);
      }
    }

    async function runPhase(
      started: [PromiseSettledResult<PeerWorker>, PromiseSettledResult<PeerWorker>],
      inPhase: (c: ConformanceCase) => boolean,
    ): Promise<void> {
      await Promise.all(
        CELLS.map(async ([direction, serializer, protocol]) => {
          const key = `${direction}|${serializer}|${String(protocol)}`;
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
            producer: toPython ? 'node' : 'python',
          };
          const earlier = observed.get(key);
          if (earlier instanceof Error) return;
          const cases = applicable(casesFor(ctx), ctx).filter(inPhase);
          if (cases.length === 0) return;
          try {
            const run = toPython ? runNodeToPython : runPythonToNode;
            observed.set(key, [...(earlier ?? []), ...(await run(t, ctx, cases))]);
          } catch (e) {
            observed.set(key, e instanceof Error ? e : new Error(String(e)));
          }
        }),
      );
    }

    afterAll(async () => {
      // A failed cell is judged from the caller's side; the workers' logs say what they saw.
      const failed = cells.some(
        (c) => c.line === line && c.transport === t.name && c.failures.length > 0,
      );
      if (failed) {
        for (const w of workers)
          process.stdout.write(`\n${t.name} worker log (tail):\n${w.log().slice(-20000)}\n`);
      }
      await Promise.all(workers.map((w) => w.stop()));
    });

    const whyNot = (c: ConformanceCase, ctx: CaseContext): string | null =>
      t.notApplicable?.(c) ?? celeryNotApplicable(c, ctx);
    const applicable = (cases: ConformanceCase[], ctx: CaseContext): ConformanceCase[] =>
      cases.filter((c) => whyNot(c, ctx) === null);

    it.each(CELLS)('%s, %s protocol %d', (direction, serializer, protocol) => {
      const ctx: CaseContext = {
        serializer,
        protocol,
        line,
        queue: direction === 'Node → Python' ? pyQueue : tsQueue,
        producer: direction === 'Node → Python' ? 'node' : 'python',
      };
      const all = casesFor(ctx);
      const cases = applicable(all, ctx);
      const notApplicable = all.flatMap((c) => {
        const why = whyNot(c, ctx);
        return why === null ? [] : [{ name: c.name, why }];
      });
      const got = observed.get(`${direction}|${serializer}|${String(protocol)}`);
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
        notApplicable,
      });
      expect(failures).toEqual([]);
    });
  });
});
