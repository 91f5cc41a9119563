import { spawn } from 'node:child_process';
import {
  AMQP_URL,
  PEERS,
  REDIS_URL,
  peerEnv,
  python,
  runPython,
  startWorker,
  uniq,
} from '../support/worker/int-helpers';
import { whenPythonWorkerReady } from '../support/python-worker-process';

jest.setTimeout(150_000);

/** What `python-peers/peer/event_batches.py` reports per node. */
interface NodeEvents {
  routing: [[string, boolean], number][];
  batch_sizes: number[];
  task_messages: number;
  counts: Record<string, number>;
  fields: Record<string, string[]>;
  retried_exception: string | null;
  retried_tb_last: string | null;
  state: Record<string, number>;
}

const N = 60;

/**
 * Task events as a Celery 5.7 prefork worker sends them — buffered and published as
 * `task.multi` lists (celery/worker/consumer/events.py, `buffer_group=['task']`;
 * celery/events/dispatcher.py, `flush`) — decoded by Celery's own `EventReceiver` and `State`
 * (what `celery events` and Flower run), side by side with a real Python worker.
 */
describe.each([
  ['redis', REDIS_URL],
  ['amqp', AMQP_URL],
])('task events on %s', (_kind, broker) => {
  it('are sent as task.multi batches Celery’s receiver splits, with the Python worker’s fields', async () => {
    const tsQueue = uniq('ts-ev');
    const pyQueue = uniq('py-ev');
    const tsNode = `${uniq('ev-ts')}@testhost`;
    const pyNode = `${uniq('ev-py')}@testhost`;
    const env = peerEnv({ broker, backend: REDIS_URL });
    const w = await startWorker(
      { brokerUrl: broker, resultBackend: REDIS_URL },
      { queues: [tsQueue], hostname: tsNode, sendEvents: true },
    );
    const child = spawn(
      python(),
      [
        '-m',
        'celery',
        '-A',
        'peer.app',
        'worker',
        '-Q',
        pyQueue,
        '-n',
        pyNode,
        '-P',
        'prefork',
      ].concat(['-c', '1', '-E', '--without-gossip', '--without-mingle', '-l', 'info']),
      { env, cwd: PEERS, detached: true, stdio: 'pipe' },
    );
    const py = await whenPythonWorkerReady(child);
    try {
      const r = await runPython<Record<'ts' | 'py', NodeEvents>>(
        ['-m', 'peer.event_batches'],
        env,
        { nodes: { ts: [tsNode, tsQueue], py: [pyNode, pyQueue] }, n: N },
        '5.7',
        120_000,
      );
      for (const label of ['ts', 'py'] as const) {
        const e = r[label];
        // Every task event travelled in a `task.multi` list, none on its own routing key.
        expect(e.routing.map(([k]) => k)).toEqual([['task.multi', true]]);
        expect(Math.max(...e.batch_sizes)).toBeLessThanOrEqual(24);
        // N adds + the retried task received twice (first delivery and the retry).
        expect(e.counts).toEqual({
          'task-received': N + 2,
          'task-started': N + 2,
          'task-succeeded': N + 1,
          'task-retried': 1,
        });
        expect(e.batch_sizes.reduce((a, b) => a + b, 0)).toBe(3 * N + 6);
        expect(e.state).toEqual({ SUCCESS: N + 1 });
      }
      // Buffering joined events: fewer messages than events (the Python worker's batches are
      // mostly of one at this rate; ours join what one loop turn produced).
      expect(r.ts.task_messages).toBeLessThan(3 * N + 6);
      // Same fields per event type as Celery's worker sends.
      expect(r.ts.fields).toEqual(r.py.fields);
      // `Request.on_retry`: `exception=safe_repr(Retry.exc)` — 'None' for `retry()` without exc.
      expect(r.py.retried_exception).toBe('None');
      expect(r.ts.retried_exception).toBe(r.py.retried_exception);
      expect(r.ts.retried_tb_last).toBe(r.py.retried_tb_last);
    } finally {
      await py.stop();
      await w.shutdown();
    }
  });
});
