import type { CeleryLine } from '../../src/config/config';
import type { Worker } from '../../src/worker/worker';
import { startPythonWorker, type PythonWorker } from '../support/client/python-worker';
import { peerEnv, REDIS_URL, runPython, startWorker, uniq } from '../support/worker/int-helpers';

/**
 * The four line quirks of issue 12, each against a real Celery producer *and* worker of the line
 * (python-peers/peer/line_quirks.py), with the TypeScript worker configured as that line:
 * - 5.1–5.5 producers always send `ignore_result: False`; only 5.6+ workers let it win;
 * - 4.4 joins chords in a Redis list (a ZSET there makes the Python worker hit WRONGTYPE);
 * - 4.4/5.0 carry the chord size in the body signature (`chord_size`), no `.s` key;
 * - ≤5.1 nest a chained chord's kwargs one level deeper; header tasks get no chord kwargs.
 */
interface Sig {
  task: string;
  args?: unknown[];
  queue: string;
}
type Case =
  | {
      id: string;
      kind: 'task';
      task: string;
      queue: string;
      then: { task: string; args: unknown[] };
    }
  | { id: string; kind: 'chord'; header: Sig[]; body: Sig }
  | { id: string; kind: 'chain'; steps: (Sig | { group: Sig[] })[] };
interface Outcome {
  state: string;
  value?: unknown;
  error?: string;
  stored?: boolean;
}

const add = (x: number, y: number, queue: string): Sig => ({
  task: 'conformance.add',
  args: [x, y],
  queue,
});

/** A chord whose header alternates between the queues given; `tsum` of 3+7+11+15 = 36. */
function chordCase(id: string, queues: string[], body: string): Case {
  const header = [
    [1, 2],
    [3, 4],
    [5, 6],
    [7, 8],
  ].map(([x, y], i) => add(x ?? 0, y ?? 0, queues[i % queues.length] ?? ''));
  return { id, kind: 'chord', header, body: { task: 'conformance.tsum', queue: body } };
}

function ignoreCase(id: string, queue: string): Case {
  return {
    id,
    kind: 'task',
    task: 'conformance.ignored',
    queue,
    then: { task: 'conformance.add', args: [1, 1] },
  };
}

describe.each<[CeleryLine]>([['4.4'], ['5.0'], ['5.1'], ['5.5'], ['5.6']])(
  'Celery %s quirks against real Celery',
  (line) => {
    const py = uniq(`cw-lq-${line}-py`);
    const ts = uniq(`cw-lq-${line}-ts`);
    let pyWorker: PythonWorker | undefined;
    let tsWorker: Worker | undefined;

    beforeAll(async () => {
      [pyWorker, tsWorker] = await Promise.all([
        startPythonWorker({
          line,
          brokerUrl: REDIS_URL,
          resultBackend: REDIS_URL,
          queues: py,
          nodename: `${py}@%h`,
        }),
        startWorker(
          { brokerUrl: REDIS_URL, resultBackend: REDIS_URL, celeryLine: line },
          { queues: [ts], concurrency: 1 },
        ),
      ]);
    }, 90_000);

    afterAll(async () => {
      await Promise.all([pyWorker?.stop(), tsWorker?.shutdown()]);
    });

    const run = (cases: Case[]): Promise<Record<string, Outcome>> =>
      runPython<Record<string, Outcome>>(
        ['-m', 'peer.line_quirks'],
        peerEnv({ broker: REDIS_URL, backend: REDIS_URL }),
        { timeout: 30, cases },
        line,
        120_000,
      );

    it('mixed chords join in the line’s structure and size source; the Python worker survives', async () => {
      const out = await run([
        chordCase('mixed-py-body', [py, ts], py),
        chordCase('mixed-ts-body', [ts, py], ts),
        chordCase('ts-header', [ts], py),
      ]);
      expect(out['mixed-py-body']).toEqual({ state: 'SUCCESS', value: 36 });
      expect(out['mixed-ts-body']).toEqual({ state: 'SUCCESS', value: 36 });
      expect(out['ts-header']).toEqual({ state: 'SUCCESS', value: 36 });
      expect(pyWorker?.log()).not.toContain('WRONGTYPE');
    }, 150_000);

    it('a chained chord runs its header without the nested kwargs', async () => {
      // add(1, 2) on the TS worker, which then applies the chained chord from the `chain` embed.
      const out = await run([
        {
          id: 'chain',
          kind: 'chain',
          steps: [
            add(1, 2, ts),
            {
              group: [
                { task: 'conformance.mul', args: [2], queue: py },
                { task: 'conformance.mul', args: [3], queue: ts },
              ],
            },
            { task: 'conformance.tsum', queue: ts },
          ],
        },
      ]);
      expect(out.chain).toEqual({ state: 'SUCCESS', value: 15 });
    }, 150_000);

    it('stores an ignore_result task’s result exactly when the Python worker does', async () => {
      const out = await run([ignoreCase('on-py', py), ignoreCase('on-ts', ts)]);
      expect(out['on-py']?.value).toBe(2);
      expect(out['on-ts']?.value).toBe(2);
      // 5.6 lets the producer's `ignore_result: False` header win; 4.4–5.5 use the task's True.
      const expected = line === '5.6';
      expect(out['on-py']?.stored).toBe(expected);
      expect(out['on-ts']?.stored).toBe(expected);
    }, 150_000);
  },
);
