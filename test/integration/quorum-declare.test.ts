import { createApp } from '../../src/app/app';
import { InequivalentExchangeError, InequivalentQueueArgumentsError } from '../../src/errors';
import {
  queueRows,
  consumerPrefetch,
  createVhost,
  estateConfig,
  quorumTasks,
  startPyQuorumWorker,
  type Where,
} from '../support/quorum/estate';

/**
 * Issue 9 (1, 2): a queue or exchange Celery 5.7 declared with other arguments is a typed error
 * naming both sides, never an uncaught 406; the TS worker on a quorum queue uses per-consumer
 * QoS with the same prefetch a Python worker of the line sets (`rabbitmqctl list_consumers`).
 */
describe('quorum declarations and QoS (Celery 5.7 on the same broker)', () => {
  const queue = 'quorum-clash';
  let vhost: Awaited<ReturnType<typeof createVhost>>;
  let pyPrefetch: number[] = [];

  beforeAll(async () => {
    vhost = await createVhost('quorum-decl');
    const py = await startPyQuorumWorker('5.7', vhost.url, queue);
    try {
      pyPrefetch = await consumerPrefetch(vhost.name, queue);
    } finally {
      await py.stop();
    }
  }, 120_000);
  afterAll(async () => {
    await vhost.drop();
  }, 60_000);

  test('a classic-configured client gets InequivalentQueueArgumentsError naming the queue and both argument sets', async () => {
    // Same exchange type as the estate, but no `taskDefaultQueueType: 'quorum'`.
    const app = createApp({
      ...estateConfig('5.7', vhost.url, queue),
      taskDefaultQueueType: 'classic',
    });
    try {
      const err: unknown = await app.sendTask('quorum.add', { args: [1, 2] }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(InequivalentQueueArgumentsError);
      const e = err as InequivalentQueueArgumentsError;
      expect(e.entityName).toBe(queue);
      expect(e.argument).toBe('x-queue-type');
      expect(e.current).toBe("'quorum'");
      expect(e.declared).toEqual({ durable: true, exclusive: false, auto_delete: false });
      expect(e.replyCode).toBe(406);
      expect(e.message).toContain(`queue '${queue}' already exists with other arguments`);
      expect(e.message).toContain("{'x-queue-type': 'quorum'}");
    } finally {
      await app.close();
    }
  }, 60_000);

  test('a direct-exchange client gets InequivalentExchangeError for the topic exchange', async () => {
    const app = createApp(estateConfig('5.7', vhost.url, queue, 'direct'));
    try {
      const err: unknown = await app.sendTask('quorum.add', { args: [1, 2] }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(InequivalentExchangeError);
      const e = err as InequivalentExchangeError;
      expect(e.entityName).toBe(queue);
      expect(e.argument).toBe('type');
      expect(e.received).toBe("'direct'");
      expect(e.current).toBe("'topic'");
    } finally {
      await app.close();
    }
  }, 60_000);

  test('a classic-configured TS worker fails to start with the typed error, not a crash', async () => {
    const app = createApp({
      ...estateConfig('5.7', vhost.url, queue),
      taskDefaultQueueType: 'classic',
      tasks: quorumTasks,
    });
    const w = app.worker({ queues: [queue], logger: { log: () => undefined } });
    try {
      await expect(w.start()).rejects.toBeInstanceOf(InequivalentQueueArgumentsError);
    } finally {
      await w.shutdown().catch(() => undefined);
      await app.close();
    }
  }, 60_000);

  test('the quorum-configured TS worker consumes with per-consumer prefetch, as the Python worker', async () => {
    const lines: string[] = [];
    const app = createApp({ ...estateConfig('5.7', vhost.url, queue), tasks: quorumTasks });
    const w = app.worker({
      queues: [queue],
      concurrency: 2,
      logger: { log: (_l, m) => lines.push(m) },
    });
    try {
      await w.start();
      const ts = await consumerPrefetch(vhost.name, queue);
      // -c 2 × worker_prefetch_multiplier 4, on the consumer (global would show 0 here).
      expect(pyPrefetch).toEqual([8]);
      expect(ts).toEqual(pyPrefetch);
      expect(lines).toContain('Global QoS is disabled. Prefetch count is now static.');
      const r = await app.sendTask('quorum.add', { args: [20, 22] });
      expect(await r.get({ timeout: 30 })).toBe(42);
    } finally {
      await w.shutdown();
      await app.close();
    }
  }, 90_000);

  test('the 5.7 pidbox queue is declared as the Python 5.7 worker declares it (exclusive), beside it', async () => {
    const app = createApp({ ...estateConfig('5.7', vhost.url, queue), tasks: quorumTasks });
    const w = app.worker({ queues: [queue], logger: { log: () => undefined } });
    const py = await startPyQuorumWorker('5.7', vhost.url, queue);
    try {
      await w.start();
      const rows = (await queueRows(vhost.name)).filter((r) => r.name.endsWith('.celery.pidbox'));
      expect(rows).toHaveLength(2);
      const [a, b] = rows.map(({ name: _n, ...flags }) => flags);
      expect(a).toEqual(b);
      expect(a).toMatchObject({ durable: 'false', auto_delete: 'true', exclusive: 'true' });
    } finally {
      await w.shutdown();
      await py.stop();
      await app.close();
    }
  }, 90_000);

  test('a mixed fleet shares the quorum queue: Python and TS workers both take plain and countdown tasks', async () => {
    const app = createApp({ ...estateConfig('5.7', vhost.url, queue), tasks: quorumTasks });
    const w = app.worker({
      queues: [queue],
      concurrency: 2,
      hostname: 'ts-mixed@%h',
      logger: { log: () => undefined },
    });
    const py = await startPyQuorumWorker('5.7', vhost.url, queue);
    try {
      await w.start();
      const sent = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          app.sendTask<Where>('quorum.where', i % 3 === 0 ? { countdown: 2 } : {}),
        ),
      );
      const got = await Promise.all(sent.map((r) => r.get({ timeout: 60 })));
      const hosts = new Set(got.map((g) => g.host.split('@')[0]?.split('-')[0]));
      expect(hosts).toEqual(new Set(['ts', 'py']));
      const delayed = got.filter((_, i) => i % 3 === 0);
      for (const d of delayed) expect(d.routing_key).toMatch(/^([01]\.){28}quorum-clash$/);
    } finally {
      await w.shutdown();
      await py.stop();
      await app.close();
    }
  }, 120_000);
});
