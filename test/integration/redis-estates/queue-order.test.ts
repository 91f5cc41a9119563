import { startWorker, uniq } from '../../support/worker/int-helpers';
import { ledger, record, sleep } from './gaps-ledger';
import { pyFire, pyWorker } from './py-estate';

/**
 * Issue 10, `queue_order_strategy` against Python: the order in which a worker consuming two
 * queues takes their messages (kombu's `round_robin`, `priority`, `sorted` cycles). Both queues
 * are filled first by a Celery 5.7 producer; then a worker with one slot and prefetch 1 drains
 * them, `-Q <b>,<a>` (given order differs from sorted order), and a ledger records the run
 * order. The TS worker's order must be the Python worker's, strategy by strategy, on Celery 5.7.
 */
const URL = 'redis://127.0.0.1:6379/6';

const N = 4;

/** Fill both queues from Python, drain them with `start`, return the run order. */
async function drainOrder(
  line: '5.7' | '5.2',
  strategy: string,
  start: (queues: [string, string], settings: object) => Promise<() => Promise<void>>,
): Promise<string[]> {
  const tag = uniq('qo');
  const qa = `${tag}-a`;
  const qb = `${tag}-b`;
  const run = uniq('run');
  const settings = { broker_transport_options: { queue_order_strategy: strategy } };
  await pyFire(line, URL, settings, { queue: qa, run, fire: ids('a', run) });
  await pyFire(line, URL, settings, { queue: qb, run, fire: ids('b', run) });
  const stop = await start([qb, qa], settings);
  try {
    for (let i = 0; i < 300 && (await ledger.hlen(`gaps:${run}:done`)) < 2 * N; i++) {
      await sleep(100);
    }
  } finally {
    await stop();
  }
  return (await ledger.lrange(`gaps:${run}:times`, 0, -1)).map((t) =>
    (t.split(' ')[0] ?? '').replace(`${run}-`, ''),
  );
}

const ids = (q: string, run: string): string[] =>
  Array.from({ length: N }, (_, i) => `${run}-${q}${String(i)}`);

// Celery 5.7 only: a Celery 5.2 worker given the same `-Q b,a` took `a` first in one run and
// `b` first in another (its consumer's queue order is not the order given), so no order can
// be matched there.
const CASES = (['5.7'] as const).flatMap((line) =>
  ['round_robin', 'priority', 'sorted'].map((strategy) => [line, strategy] as const),
);

describe.each(CASES)('Celery %s, queue_order_strategy %s', (line, strategy) => {
  it('the TS worker takes the two queues in the Python worker’s order', async () => {
    const python = await drainOrder(line, strategy, async (queues, settings) => {
      const w = await pyWorker(
        line,
        URL,
        URL,
        { ...settings, worker_prefetch_multiplier: 1 },
        queues.join(','),
        `${uniq('py')}@qo`,
      );
      return () => w.stop();
    });
    const ts = await drainOrder(line, strategy, async (queues) => {
      const w = await startWorker(
        {
          brokerUrl: URL,
          resultBackend: URL,
          brokerTransportOptions: { queue_order_strategy: strategy },
          workerPrefetchMultiplier: 1,
          celeryLine: line,
        },
        { queues: [...queues], tasks: [record], concurrency: 1 },
      );
      return () => w.shutdown();
    });
    console.log(
      `${line} queue_order_strategy ${strategy}: Python ${python.join(' ')}; TS ${ts.join(' ')}`,
    );
    expect(python).toHaveLength(2 * N);
    expect(ts).toEqual(python);
  }, 120_000);
});
