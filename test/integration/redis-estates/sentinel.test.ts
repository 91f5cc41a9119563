import { Redis } from 'ioredis';
import { createApp } from '../../../src/app/app';
import { dropClient } from '../../../src/brokers/redis/close-client';
import { startWorker, uniq } from '../../support/worker/int-helpers';
import { pySend } from './py-estate';
import { useSentinelTopology } from './sentinel-topology';

/**
 * Issue 10, Sentinel: a real topology (master, replica, three sentinels from
 * scripts/redis-sentinel.sh on private ports). A Celery 5.7 producer and a TS worker share a
 * queue and results through `sentinel://…;sentinel://…` + `master_name`, before and after
 * `SENTINEL FAILOVER`.
 */

/** Remote ports of this process's open sockets that go to one of `ports`. */
function socketsTo(ports: readonly number[]): number[] {
  return (process as unknown as { _getActiveHandles(): { remotePort?: number }[] })
    ._getActiveHandles()
    .map((h) => h.remotePort ?? 0)
    .filter((p) => ports.includes(p));
}

describe('Redis Sentinel', () => {
  const { ports, url: sentinelUrl } = useSentinelTopology('cw-sen-');

  it('Celery 5.7 producer → TS worker over Sentinel, before and after a failover', async () => {
    const url = sentinelUrl();
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
      // The replica is in sync and known to every sentinel (redis-sentinel.sh waits for both).
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

  it('closing a Sentinel client and worker leaves no connection open to the sentinels', async () => {
    const url = sentinelUrl();
    const opts = { master_name: 'mymaster' };
    const cfg = {
      brokerUrl: url,
      resultBackend: url,
      brokerTransportOptions: opts,
      resultBackendTransportOptions: opts,
    };
    const queue = uniq('cw-sen-close');
    const worker = await startWorker(cfg, { queues: [queue] });
    const app = createApp({ ...cfg, env: {} });
    const r = await app.sendTask('conformance.add', { args: [1, 2], queue });
    expect(await r.get({ timeout: 30 })).toBe(3);
    const open = (): number[] => socketsTo(ports);
    expect(open().length).toBeGreaterThan(0);
    await app.close();
    await worker.shutdown();
    await new Promise((res) => setTimeout(res, 500));
    // ioredis cleans a connection's failover detector (one connection per sentinel) only in
    // disconnect(), not after QUIT: before closeClient, 15 sockets stayed open here.
    expect(open()).toEqual([]);
  }, 60_000);

  it('a Sentinel client dropped while it is still connecting leaves no sentinel connection', async () => {
    // CI of session 7: three sentinel sockets stayed open after close. ioredis creates the
    // failover detector on the master stream's `connect`, which still comes when disconnect()
    // ran before it; a plain disconnect() here left 3 sockets per client whose drop hit that window.
    const sentinels = ports.slice(2).map((port) => ({ host: '127.0.0.1', port }));
    const open = (): number[] => socketsTo(ports.slice(2));
    // The window, made certain: the master stream exists and is still opening (ioredis keeps it
    // on `stream`; white-box, since no event marks that instant).
    const opening = (c: Redis): boolean =>
      (c as unknown as { stream?: { connecting?: boolean } }).stream?.connecting === true;
    let hit = 0;
    for (let i = 0; i < 10; i++) {
      const c = new Redis({
        sentinels,
        name: 'mymaster',
        failoverDetector: true,
        lazyConnect: true,
      });
      c.on('error', () => undefined);
      c.connect().catch(() => undefined);
      const t0 = Date.now();
      while (!opening(c) && c.status === 'connecting' && Date.now() - t0 < 2_000)
        await new Promise((res) => setImmediate(res));
      if (opening(c)) hit++;
      await dropClient(c);
    }
    expect(hit).toBeGreaterThan(0);
    await new Promise((res) => setTimeout(res, 500));
    expect(open()).toEqual([]);
  }, 60_000);
});
