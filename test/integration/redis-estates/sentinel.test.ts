import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { startWorker, uniq } from '../../support/worker/int-helpers';
import { freePort } from '../redis-private';
import { pySend } from './py-estate';

/**
 * Issue 10, Sentinel: a real topology (master, replica, three sentinels from
 * scripts/redis-sentinel.sh on private ports). A Celery 5.7 producer and a TS worker share a
 * queue and results through `sentinel://…;sentinel://…` + `master_name`, before and after
 * `SENTINEL FAILOVER`.
 */
const SCRIPT = resolve(__dirname, '..', '..', '..', 'scripts', 'redis-sentinel.sh');

describe('Redis Sentinel', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cw-sen-'));
  const ports: number[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 5; i++) ports.push(await freePort());
    execFileSync(SCRIPT, ['start', dir, ...ports.map(String)], { stdio: 'pipe' });
  });
  afterAll(() => {
    execFileSync(SCRIPT, ['stop', dir], { stdio: 'pipe' });
    rmSync(dir, { recursive: true, force: true });
  });

  it('Celery 5.7 producer → TS worker over Sentinel, before and after a failover', async () => {
    const sentinels = ports.slice(2).map((p) => `sentinel://127.0.0.1:${String(p)}/0`);
    const url = sentinels.join(';');
    const opts = { master_name: 'mymaster' };
    const settings = { broker_transport_options: opts, result_backend_transport_options: opts };
    const queue = uniq('cw-sen');
    const worker = await startWorker(
      {
        brokerUrl: url,
        resultBackend: url,
        brokerTransportOptions: opts,
        resultBackendTransportOptions: opts,
      },
      { queues: [queue] },
    );
    const s1 = new Redis(ports[2] ?? 0, '127.0.0.1');
    try {
      expect(
        await pySend('5.7', url, url, settings, queue, [
          { id: 'a', task: 'conformance.add', args: [1, 2] },
        ]),
      ).toEqual({ a: 3 });
      // Wait until the replica is in sync, then fail over.
      await new Promise((r) => setTimeout(r, 1500));
      const before = (await s1.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster')) as string[];
      const t0 = Date.now();
      await s1.call('SENTINEL', 'FAILOVER', 'mymaster');
      for (;;) {
        const now = (await s1.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster')) as string[];
        if (now[1] !== before[1]) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(
        await pySend('5.7', url, url, settings, queue, [
          { id: 'b', task: 'conformance.add', args: [20, 22] },
        ]),
      ).toEqual({ b: 42 });
      console.log(
        `sentinel failover: a task ran through the new master ${String(Date.now() - t0)} ms after SENTINEL FAILOVER`,
      );
    } finally {
      s1.disconnect();
      await worker.shutdown();
    }
  }, 120_000);
});
