import { join } from 'node:path';
import { startNodeWorker, type NodeWorkerProcess } from '../support/node-worker';
import { startPythonPoolWorker } from '../support/pool/flower';
import { AMQP_URL, ROOT, python, uniq } from '../support/worker/int-helpers';
import { execFile } from 'node:child_process';

jest.setTimeout(240_000);

/** The pool tests' own Redis database (results, and the Redis broker). */
const REDIS = process.env.POOL_TEST_REDIS ?? 'redis://127.0.0.1:6379/3';
const APP = join(ROOT, 'test', 'support', 'pool', 'pool-app.ts');
const DRIVER = join(ROOT, 'test', 'support', 'pool', 'pool_driver.py');

type Outcome = { ok: string } | { err: string; type: string };

function drive<T>(scenario: string, broker: string, queue: string, node: string): Promise<T> {
  return new Promise((res, rej) => {
    execFile(
      python('5.7'),
      [DRIVER, scenario, broker, REDIS, queue, node],
      { cwd: ROOT, timeout: 120_000 },
      (err, stdout, stderr) => {
        if (err) rej(new Error(`${scenario}: ${err.message}\n${stderr}`));
        else res(JSON.parse(stdout.trim().split('\n').pop() ?? '') as T);
      },
    );
  });
}

/** What the `lost` scenario of `pool_driver.py` reports, per case. */
interface LostOutcomes {
  requeue: Outcome;
  late: Outcome;
  retry: Outcome;
  noack: Outcome;
  after: Outcome;
  runs: Record<string, number>;
  states: Record<string, string>;
  events: Record<string, string[]>;
  rejected: Record<string, boolean[]>;
}

/**
 * `Request.on_failure` for a lost pool child under acks_late, as a Celery 5.7 prefork worker
 * settles it: the TS pool and the Python control below are held to the same facts.
 */
function expectLostOutcomes(r: LostOutcomes): void {
  // Requeued (task-rejected requeue=True, no FAILURE stored, no task-failed), then run again.
  expect(r.requeue).toEqual({ ok: '2' });
  expect(r.rejected.requeue).toEqual([true]);
  expect(r.events.requeue).not.toContain('task-failed');
  // Acked and failed: one run only, FAILURE stays, task-failed sent, nothing rejected.
  expect(r.late).toMatchObject({ type: 'WorkerLostError' });
  expect(r.runs.late).toBe(1);
  expect(r.states.late).toBe('FAILURE');
  expect(r.events.late).toContain('task-failed');
  expect(r.rejected.late).toEqual([]);
  // retry_on_worker_lost: RETRY, task-retried, then the second run succeeds; nothing rejected.
  expect(r.retry).toEqual({ ok: '2' });
  expect(r.events.retry).toContain('task-retried');
  expect(r.rejected.retry).toEqual([]);
  // acks_on_failure=False: FAILURE stored, task-failed sent, the message rejected unrequeued.
  expect(r.noack).toMatchObject({ type: 'WorkerLostError' });
  expect(r.runs.noack).toBe(1);
  expect(r.states.noack).toBe('FAILURE');
  expect(r.events.noack).toContain('task-failed');
  expect(r.rejected.noack).toEqual([false]);
  expect(r.after).toEqual({ ok: '3' });
}

/**
 * `celery-wire worker -P prefork` (task bodies on Node worker threads) serving a real Python
 * Celery 5.7 producer: values keep their Python types across the thread boundary, hard limits
 * terminate the spinning thread, soft limits reach it, a thread that dies is a lost child, the
 * main thread answers `inspect ping` during an 8 s synchronous task, revoke terminates.
 */
describe.each([
  ['Redis', REDIS],
  ['RabbitMQ', AMQP_URL],
] as const)('thread pool (-P prefork) on %s with a Celery 5.7 producer', (_b, broker) => {
  const queue = uniq('pool');
  const node = `${uniq('pool')}@test`;
  let worker: NodeWorkerProcess;

  beforeAll(async () => {
    worker = await startNodeWorker({
      args: ['-A', APP, '-P', 'prefork', '-c', '2', '-E', '-Q', queue, '-n', node],
      env: { ...process.env, CELERY_BROKER_URL: broker, CELERY_RESULT_BACKEND: REDIS },
      readyTimeoutMs: 60_000,
    });
  });
  afterAll(async () => {
    await worker.stop();
  });

  it('keeps Python types, fails/limits/loses threads as Celery does, and keeps running', async () => {
    const r = await drive<Record<string, Outcome> & { failed_events: Record<string, string> }>(
      'results',
      broker,
      queue,
      node,
    );
    expect(r.add).toEqual({ ok: '5' });
    expect(r.types).toEqual({
      ok: "{'big': 1180591620717411303424, 'float': 3.0, 'bytes': b'\\x00\\x01\\xff', 'when': datetime.datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.timezone.utc)}",
    });
    expect(r.echo).toEqual({
      ok: "{'f': 1.0, 'b': b'\\x00\\xff', 'i': 1208925819614629174706176, 'neg': -18446744073709551616, 'dt': datetime.datetime(2020, 1, 2, 3, 4, 5, 6), 'aware': datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc), 'date': datetime.date(2021, 5, 6), 'dec': Decimal('1.10'), 'nested': [[1.0, b'x'], {'k': 2.0}]}",
    });
    // `pool: 'solo'` runs on the main thread (threadId 0); pool tasks on a worker thread.
    expect(r.main).toEqual({ ok: '0' });
    expect(r.spin).not.toEqual({ ok: '0' });
    expect(r.hard).toEqual({ err: 'TimeLimitExceeded(1)', type: 'TimeLimitExceeded' });
    expect(r.soft).toEqual({ err: 'SoftTimeLimitExceeded()', type: 'SoftTimeLimitExceeded' });
    expect(r.exit).toMatchObject({ type: 'WorkerLostError' });
    // `process.exit(3)` is Python's `sys.exit(3)`: Celery 5.7 words it without the job.
    expect((r.exit as { err: string }).err).toBe(
      "WorkerLostError('Worker exited prematurely: exitcode 3.')",
    );
    expect((r.uncaught as { err: string }).err).toMatch(/exited prematurely: exitcode 1 Job/);
    expect(r.fail).toEqual({ err: "ValueError('bad')", type: 'ValueError' });
    expect(r.retry).toEqual({ ok: '2' });
    expect(r.after).toEqual({ ok: '2' });
    expect(r.failed_events.hard).toBe('TimeLimitExceeded(1)');
    expect(r.failed_events.soft).toBe('SoftTimeLimitExceeded()');
    expect(r.failed_events.exit).toBe("WorkerLostError('Worker exited prematurely: exitcode 3.')");
    expect(r.failed_events.fail).toBe("ValueError('bad')");
  });

  it('answers inspect ping while an 8 s synchronous task runs on a thread', async () => {
    const r = await drive<{ ping: unknown; running_after_ping: boolean; spin: Outcome }>(
      'ping',
      broker,
      queue,
      node,
    );
    expect(r.ping).toEqual({ [node]: { ok: 'pong' } });
    expect(r.running_after_ping).toBe(true);
    expect(r.spin).toHaveProperty('ok');
  });

  it('a lost thread under acks_late: reject_on_worker_lost requeues, retry_on_worker_lost retries, acks_on_failure=False rejects, otherwise ack + FAILURE', async () => {
    expectLostOutcomes(await drive<LostOutcomes>('lost', broker, queue, node));
  });

  it('revoke(terminate=True) kills the thread running while(true){}; the pool goes on', async () => {
    const r = await drive<{ revoked: Outcome; revoked_state: string; after: Outcome }>(
      'revoke',
      broker,
      queue,
      node,
    );
    expect(r.revoked).toEqual({ err: "TaskRevokedError('terminated')", type: 'TaskRevokedError' });
    expect(r.revoked_state).toBe('REVOKED');
    expect(r.after).toEqual({ ok: '42' });
  });
});

describe('thread pool --max-tasks-per-child (Redis, Celery 5.7 producer)', () => {
  it('replaces a thread after its tasks', async () => {
    const queue = uniq('pool-mtpc');
    const node = `${uniq('pool')}@test`;
    const worker = await startNodeWorker({
      args: ['-A', APP, '-P', 'prefork', '-c', '1', '--max-tasks-per-child', '2', '-Q', queue],
      env: { ...process.env, CELERY_BROKER_URL: REDIS, CELERY_RESULT_BACKEND: REDIS },
      readyTimeoutMs: 60_000,
    });
    try {
      const r = await drive<{ threads: number[] }>('lifetime', REDIS, queue, node);
      expect(r.threads.length).toBeGreaterThanOrEqual(3);
    } finally {
      await worker.stop();
    }
  });
});

/**
 * The control for the lost-thread test above: the same scenario against a Celery 5.7 prefork
 * worker whose task `os._exit(3)`s its child, so the TS pool's answers are Celery's own.
 */
describe('a lost prefork child under acks_late on a Celery 5.7 prefork worker (Redis)', () => {
  it('requeues with reject_on_worker_lost, retries with retry_on_worker_lost, rejects with acks_on_failure=False, otherwise acks and stores FAILURE', async () => {
    const queue = uniq('pool-lost-py');
    const node = `${uniq('pool-py')}@test`;
    const w = await startPythonPoolWorker({
      broker: REDIS,
      backend: REDIS,
      queue,
      nodename: node,
      args: ['-c', '2'],
    });
    try {
      expectLostOutcomes(await drive<LostOutcomes>('lost', REDIS, queue, node));
    } finally {
      await w.stop();
    }
  });
});
