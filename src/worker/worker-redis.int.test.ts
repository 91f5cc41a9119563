import { FULL, SUBSET, casesFor, mismatch } from '../../test/support/worker/catalogue-cases';
import {
  REDIS_URL,
  peerEnv,
  produce,
  startWorker,
  uniq,
} from '../../test/support/worker/int-helpers';
import type { Worker } from './worker';

jest.setTimeout(90_000);

/**
 * Python Celery producers (5.7 and 5.2) → Redis → our worker → Redis backend → Python's own
 * `AsyncResult.get()`: values, states and rebuilt exception types, per serializer and protocol.
 */
describe('TypeScript worker on Redis, called by Python Celery', () => {
  const queue = uniq('ts-redis');
  let worker: Worker;

  beforeAll(async () => {
    worker = await startWorker(
      { brokerUrl: REDIS_URL, resultBackend: REDIS_URL },
      { queues: [queue], concurrency: 8 },
    );
  });
  afterAll(async () => {
    await worker.shutdown();
  });

  it('runs the whole catalogue for Celery 5.7 (json, protocol 2)', async () => {
    const names = Object.keys(FULL);
    const out = await produce(
      peerEnv({ broker: REDIS_URL, backend: REDIS_URL }),
      queue,
      casesFor(names, uniq('r57')).map((c) => c),
    );
    const ids = Object.keys(out);
    const byName = Object.fromEntries(names.map((n, i) => [n, out[ids[i] ?? '']]));
    const problems = names.map((n) => mismatch(n, byName[n])).filter((m) => m !== null);
    expect(problems).toEqual([]);
    expect(worker.counters.unknown).toBeGreaterThanOrEqual(1);
    expect(worker.counters.revoked).toBeGreaterThanOrEqual(1);
  });

  const matrix: ['5.7' | '5.2', string, 1 | 2][] = [
    ['5.7', 'msgpack', 2],
    ['5.7', 'yaml', 2],
    ['5.7', 'json', 1],
    ['5.2', 'json', 2],
    ['5.2', 'json', 1],
    ['5.2', 'msgpack', 2],
  ];
  it.each(matrix)('Celery %s, %s, protocol %i', async (line, serializer, protocol) => {
    // Results are decoded with the *client's* result_serializer (no content type is stored), so
    // the worker must use the same one, as a Python worker sharing that config would.
    const q = uniq('ts-mx');
    const w = await startWorker(
      {
        brokerUrl: REDIS_URL,
        resultBackend: REDIS_URL,
        resultSerializer: serializer,
        taskSerializer: serializer,
      },
      { queues: [q] },
    );
    const env = peerEnv({ broker: REDIS_URL, backend: REDIS_URL, serializer, protocol });
    const cases = casesFor(SUBSET, uniq(`r${line}${serializer}${String(protocol)}`));
    const out = await produce(env, q, cases, line).finally(() => w.shutdown());
    const problems = SUBSET.map((n, i) => mismatch(n, out[cases[i]?.id ?? ''])).filter(
      (m) => m !== null,
    );
    expect(problems).toEqual([]);
  });

  it('publishes link callbacks and chain steps as Celery does (children, chord join)', async () => {
    const env = peerEnv({ broker: REDIS_URL, backend: REDIS_URL });
    const link = uniq('link');
    const ch = uniq('chain');
    const out = await produce(env, queue, [
      {
        id: link,
        task: 'conformance.add',
        args: [1, 2],
        link: { task: 'conformance.mul', args: [10] },
      },
      {
        id: ch,
        task: 'chain',
        chain: [
          { task: 'conformance.add', args: [1, 2] },
          { task: 'conformance.add', args: [10] },
          { task: 'conformance.mul', args: [2] },
        ],
      },
    ]);
    expect(out[link]).toMatchObject({ state: 'SUCCESS', repr: '3', children: [30] });
    expect(out[ch]).toMatchObject({ state: 'SUCCESS', repr: '26' });
    const cd = uniq('chord');
    const chordOut = await produce(env, queue, [
      {
        id: cd,
        task: 'chord',
        chord: [1, 2, 3].map((i) => ({ task: 'conformance.mul', args: [i, 10] })),
        body: { task: 'conformance.tsum' },
      },
    ]);
    expect(chordOut[cd]).toMatchObject({ state: 'SUCCESS', repr: '60' });
  });

  it('stores result_extended documents Python reads back', async () => {
    const q = uniq('ts-ext');
    const w = await startWorker(
      { brokerUrl: REDIS_URL, resultBackend: REDIS_URL, resultExtended: true },
      { queues: [q] },
    );
    try {
      const env = peerEnv({
        broker: REDIS_URL,
        backend: REDIS_URL,
        extra: { CELERY_RESULT_EXTENDED: '1' },
      });
      const id = uniq('ext');
      const out = await produce(env, q, [{ id, task: 'conformance.add', args: [1, 2] }]);
      expect(out[id]).toMatchObject({ state: 'SUCCESS', repr: '3' });
    } finally {
      await w.shutdown();
    }
  });
});
