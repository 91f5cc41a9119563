import { createApp } from '../../src/app/app';
import { InconsistencyError } from '../../src/errors/errors';
import { AMQP_URL, REDIS_URL, startWorker, uniq } from '../support/worker/int-helpers';

/**
 * Two workers of one node name on RabbitMQ, Celery 5.7 (exclusive pidbox queues): the second is
 * refused with 405 RESOURCE_LOCKED. Celery 5.7's worker exits with `Unrecoverable error:
 * ResourceLocked(405, …)`; kombu means it to be `InconsistencyError` with `W_PIDBOX_IN_USE`,
 * which says what to do (`kombu/pidbox.py`, `Node.Consumer`), and that is what the TS worker
 * reports (the CLI prints it after `Unrecoverable error:` and exits 1). The first node keeps
 * answering.
 */
it('a second worker of the same node name: InconsistencyError naming the node; the first still answers', async () => {
  const cfg = { brokerUrl: AMQP_URL, resultBackend: REDIS_URL, celeryLine: '5.7' as const };
  const node = `${uniq('dup')}@pidbox`;
  const first = await startWorker(cfg, { queues: [uniq('dup-a')], hostname: node });
  const app = createApp({ ...cfg, env: {} });
  try {
    const err: unknown = await startWorker(cfg, { queues: [uniq('dup-b')], hostname: node }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InconsistencyError);
    expect((err as Error).message).toContain(
      `A node named ${node} is already using this process mailbox!`,
    );
    expect((err as Error).message).toContain('give each node a unique node name');
    const pong = await app.control.inspect({ destination: [node], timeout: 3 }).ping();
    expect(Object.keys(pong ?? {})).toEqual([node]);
  } finally {
    await app.close();
    await first.shutdown();
  }
}, 60_000);
