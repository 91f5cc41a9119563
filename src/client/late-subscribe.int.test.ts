import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { startPythonWorker, type PythonWorker } from '../../test/support/client/python-worker';
import { createApp } from '../app/app';
import { RedisBackend } from '../backends/redis/redis-backend';

/**
 * Issue 15 item 2: with the Redis backend `sendTask` takes no subscription (none for sends nobody
 * waits on); `get()` subscribes and then reads the key, so a result that a real Celery worker
 * stored before anyone waited is still seen.
 */
const URL = 'redis://127.0.0.1:6379/13';

describe('sendTask with the Redis backend subscribes when waited on', () => {
  const queue = `cw-late-${randomUUID().slice(0, 8)}`;
  const admin = new Redis(URL);
  let worker: PythonWorker;
  beforeAll(async () => {
    worker = await startPythonWorker({
      line: '5.7',
      brokerUrl: URL,
      resultBackend: URL,
      queues: queue,
    });
  }, 60_000);
  afterAll(async () => {
    await worker.stop();
    admin.disconnect();
  });

  it('a result stored before get() is seen; sends alone subscribe nothing', async () => {
    const app = createApp({ env: {}, brokerUrl: URL, resultBackend: URL, taskDefaultQueue: queue });
    try {
      const sent = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          app.sendTask<number>('conformance.add', { args: [i, 1] }),
        ),
      );
      const backend = await app.backend();
      if (!(backend instanceof RedisBackend)) throw new Error('expected the Redis backend');
      expect(backend.subscribedChannels()).toEqual([]);
      const last = `celery-task-meta-${sent[49]?.id ?? ''}`;
      for (let i = 0; i < 300 && (await admin.exists(last)) === 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(await admin.exists(last)).toBe(1);
      const values = await Promise.all(sent.map((r) => r.get({ timeout: 10 })));
      expect(values).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    } finally {
      await app.close();
    }
  }, 60_000);
});
