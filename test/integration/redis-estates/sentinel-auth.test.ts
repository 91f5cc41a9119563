import { createApp } from '../../../src/app/app';
import { BrokerConnectionError, CeleryTimeoutError } from '../../../src/errors/errors';
import { startWorker, uniq } from '../../support/worker/int-helpers';
import { pyInspectPing, pySend, pyWorker } from './py-estate';
import { useSentinelTopology } from './sentinel-topology';

/**
 * Issue 10, Sentinel as estates secure it: the data nodes want a password (`requirepass`, in the
 * `sentinel://:pw@…` URLs) and the sentinels another (`requirepass` on the sentinels,
 * `sentinel_kwargs={'password': …}` in the transport options, kombu's `SentinelChannel` and
 * Celery's `SentinelBackend` alike). Celery 5.7 and 5.2, both directions, and `celery inspect
 * ping` of the TS worker.
 */
describe.each(['5.7', '5.2'] as const)('Redis Sentinel with passwords, Celery %s', (line) => {
  const { url: sentinelUrl } = useSentinelTopology('cw-sena-', {
    password: 'datapw',
    sentinelPassword: 'sentinelpw',
  });
  const opts = { master_name: 'mymaster', sentinel_kwargs: { password: 'sentinelpw' } };
  const settings = { broker_transport_options: opts, result_backend_transport_options: opts };
  const tsConfig = (url: string) => ({
    brokerUrl: url,
    resultBackend: url,
    brokerTransportOptions: opts,
    resultBackendTransportOptions: opts,
    celeryLine: line,
  });

  it('Python producer → TS worker, and celery inspect ping', async () => {
    const url = sentinelUrl();
    const queue = uniq('cw-sena');
    const node = `${queue}@auth`;
    const worker = await startWorker(tsConfig(url), { queues: [queue], hostname: node });
    try {
      expect(
        await pySend(line, url, url, settings, queue, [
          { id: 'a', task: 'conformance.add', args: [1, 2] },
          { id: 'b', task: 'conformance.add', args: [20, 22], priority: 9 },
        ]),
      ).toEqual({ a: 3, b: 42 });
      expect(await pyInspectPing(line, url, settings, node)).toMatch(/pong/);
    } finally {
      await worker.shutdown();
    }
  }, 120_000);

  it('Node producer → Python worker', async () => {
    const url = sentinelUrl();
    const queue = uniq('cw-sena');
    const py = await pyWorker(line, url, url, settings, queue, `${queue}@auth`);
    const app = createApp({ ...tsConfig(url), env: {} });
    try {
      const r = await app.sendTask('conformance.add', { args: [40, 2], queue });
      expect(await r.get({ timeout: 30 })).toBe(42);
    } finally {
      await app.close();
      await py.stop();
    }
  }, 120_000);

  it('a wrong sentinel password on the result backend: get() times out on time, naming the reason', async () => {
    const url = sentinelUrl();
    const app = createApp({
      ...tsConfig(url),
      resultBackendTransportOptions: { ...opts, sentinel_kwargs: { password: 'wrong' } },
      env: {},
    });
    try {
      const r = await app.sendTask('conformance.add', { args: [1, 1], queue: uniq('cw-sena') });
      const t0 = Date.now();
      const err: unknown = await r.get({ timeout: 2 }).catch((e: unknown) => e);
      // It used to wait for the backend's SUBSCRIBE first, and that never ended (130 s here).
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(err).toBeInstanceOf(CeleryTimeoutError);
      expect((err as Error).message).toMatch(
        /timed out \(2s\)\. The result backend is not connected: All sentinels are unreachable\. Last error: WRONGPASS/,
      );
    } finally {
      await app.close();
    }
  }, 120_000);

  it('a wrong sentinel password: the client rejects with a typed error naming the reason', async () => {
    const url = sentinelUrl();
    const app = createApp({
      ...tsConfig(url),
      brokerTransportOptions: { ...opts, sentinel_kwargs: { password: 'wrong' } },
      env: {},
    });
    try {
      const err: unknown = await app
        .sendTask('conformance.add', { args: [1, 1], queue: uniq('cw-sena') })
        .catch((e: unknown) => e);
      console.log(`wrong sentinel password: ${String(err)}`);
      expect(err).toBeInstanceOf(BrokerConnectionError);
      // The sentinels' own reply names the reason; nothing claims a retry that is not coming.
      expect((err as Error).message).toMatch(/All sentinels are unreachable.*WRONGPASS/);
      expect((err as Error).message).not.toMatch(/Retrying/);
    } finally {
      await app.close();
    }
  }, 120_000);
});
