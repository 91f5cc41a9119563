import { Redis } from 'ioredis';
import { RedisBroker } from '../brokers/redis/redis-broker';
import type { RawMessage } from '../protocol/raw-message';
import { encodeTaskMessage } from '../protocol/task-message';
import {
  REDIS_URL,
  peerEnv,
  produce,
  startWorker,
  uniq,
} from '../../test/support/worker/int-helpers';
import type { Worker } from './worker';

jest.setTimeout(60_000);

const ENV = { now: new Date(), origin: 'gen1@test', replyTo: 'r' };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function task(id: string, name = 'conformance.add', args: unknown[] = [1, 2]): RawMessage {
  return encodeTaskMessage({ task: name, id, args: args as never[] }, ENV);
}

/** Bad input never kills the worker and never silently vanishes (behaviour.md §2, §11). */
describe('bad input on Redis', () => {
  const queue = uniq('ts-bad');
  const redis = new Redis(REDIS_URL);
  let worker: Worker;
  let producer: RedisBroker;

  beforeAll(async () => {
    worker = await startWorker(
      { brokerUrl: REDIS_URL, resultBackend: REDIS_URL },
      { queues: [queue] },
    );
    producer = new RedisBroker({ url: REDIS_URL });
  });
  afterAll(async () => {
    await worker.shutdown();
    await producer.close();
    redis.disconnect();
  });

  it('rejects, acks and counts exactly as Celery, then keeps working', async () => {
    const target = { exchange: '', routingKey: queue };
    const pickle = task(uniq('pk'));
    pickle.contentType = 'application/x-python-serialize';
    pickle.contentEncoding = 'binary';
    pickle.body = new Uint8Array([0x80, 0x04, 0x4e, 0x2e]);
    const garbage = task(uniq('gb'));
    garbage.body = new TextEncoder().encode('[[1, 2], {"x": ');
    const badKwargs = task(uniq('kw'));
    badKwargs.body = new TextEncoder().encode('[[1, 2], [3], {}]');
    const badEta = task(uniq('eta'));
    badEta.headers = { ...badEta.headers, eta: 'not a date' };
    const foreign: RawMessage = {
      ...task('x'),
      headers: {},
      body: new TextEncoder().encode('{"hello": 1}'),
    };
    const c = worker.counters;
    const before = { ...c };
    for (const m of [pickle, garbage, badKwargs, badEta, foreign])
      await producer.publish(m, target);
    await sleep(500);
    expect(c.invalid - before.invalid).toBe(3); // pickle (disallowed), kwargs, eta → reject
    expect(c.decodeErrors - before.decodeErrors).toBe(1); // undecodable v2 body → ack
    expect(c.unknownFormat - before.unknownFormat).toBe(1); // no task anywhere → reject
    // Nothing left behind: rejected/acked entries are gone from kombu's unacked hash and queue.
    expect(await redis.llen(queue)).toBe(0);
    const unacked = Object.values(await redis.hgetall('unacked')).filter((v) => v.includes(queue));
    expect(unacked).toEqual([]);
    const id = uniq('after');
    const out = await produce(peerEnv({ broker: REDIS_URL, backend: REDIS_URL }), queue, [
      { id, task: 'conformance.add', args: [40, 2] },
    ]);
    expect(out[id]).toMatchObject({ state: 'SUCCESS', repr: '42' });
  });

  it('cold shutdown gives a running acks_late message back, with no result stored', async () => {
    const q = uniq('ts-cold');
    const w = await startWorker(
      { brokerUrl: REDIS_URL, resultBackend: REDIS_URL, taskAcksLate: true },
      { queues: [q] },
    );
    const id = uniq('cold');
    await produce(peerEnv({ broker: REDIS_URL, backend: REDIS_URL }), q, [
      { id, task: 'conformance.sleep', args: [30], no_wait: true },
    ]);
    for (let i = 0; i < 50 && w.state.active.size === 0; i++) await sleep(100);
    expect([...w.state.active.values()].map((r) => r.id)).toEqual([id]);
    await w.shutdown({ cold: true });
    const back = await redis.lrange(q, 0, -1);
    expect(back).toHaveLength(1);
    expect(back[0]).toContain(id);
    expect(await redis.exists(`celery-task-meta-${id}`)).toBe(0);
    await redis.del(q);
  });

  it('track_started stores STARTED with pid and hostname', async () => {
    const q = uniq('ts-started');
    const w = await startWorker(
      { brokerUrl: REDIS_URL, resultBackend: REDIS_URL, taskTrackStarted: true },
      { queues: [q] },
    );
    try {
      const id = uniq('st');
      await produce(peerEnv({ broker: REDIS_URL, backend: REDIS_URL }), q, [
        { id, task: 'conformance.sleep', args: [2], no_wait: true },
      ]);
      let doc: string | null = null;
      for (let i = 0; i < 40 && doc === null; i++) {
        await sleep(100);
        doc = await redis.get(`celery-task-meta-${id}`);
      }
      expect(doc).toContain('"status": "STARTED"');
      expect(doc).toContain(`"hostname": "${w.hostname}"`);
      expect(doc).toContain(`"pid": ${String(process.pid)}`);
    } finally {
      await w.shutdown();
    }
  });

  it('warm shutdown gives ETA-held messages back to the queue', async () => {
    const q = uniq('ts-warm');
    const w = await startWorker(
      { brokerUrl: REDIS_URL, resultBackend: REDIS_URL },
      { queues: [q] },
    );
    const id = uniq('held');
    await produce(peerEnv({ broker: REDIS_URL, backend: REDIS_URL }), q, [
      { id, task: 'conformance.add', args: [1, 1], options: { countdown: 60 }, no_wait: true },
    ]);
    for (let i = 0; i < 100 && w.state.scheduled.size === 0; i++) await sleep(50);
    expect([...w.state.scheduled.values()].map((r) => r.id)).toEqual([id]);
    await w.shutdown();
    const back = await redis.lrange(q, 0, -1);
    expect(back).toHaveLength(1);
    expect(back[0]).toContain(id);
    expect(back[0]).toContain('"redelivered": true');
    await redis.del(q);
  });
});
