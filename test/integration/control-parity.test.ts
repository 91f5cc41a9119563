import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createApp, type CeleryApp } from '../../src/app/app';
import type { EventReceiver } from '../../src/events/receiver';
import type { CeleryEvent } from '../../src/events/state';
import { pyJsonLoads } from '../../src/serialization/python-json';
import type { Worker } from '../../src/worker/worker';
import { startPythonWorker, type PythonWorker } from '../support/client/python-worker';
import {
  PEERS,
  REDIS_URL,
  peerEnv,
  python,
  startWorker,
  uniq,
} from '../support/worker/int-helpers';

const run = promisify(execFile);

/** Recursive key shape of a reply (values' types aside: pids, clocks and times differ). */
function keys(v: unknown): unknown {
  if (Array.isArray(v)) return v.length > 0 ? [keys(v[0])] : [];
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, keys((v as Record<string, unknown>)[k])]),
    );
  }
  return 'leaf';
}

/**
 * Operator parity: Celery 5.7's own `celery inspect`/`celery control --json` against a Python
 * 5.7 prefork worker and the TS worker side by side, and Node's `app.control` answered by
 * Python 5.7 and 5.2 workers and the TS worker (issue 11, items 1 and 4).
 */
describe('control parity with Celery workers (redis)', () => {
  const queue = uniq('control-par');
  const py57 = `${uniq('control-py57')}@parity`;
  const py52 = `${uniq('control-py52')}@parity`;
  const ts = `${uniq('control-ts')}@parity`;
  const env = peerEnv({ broker: REDIS_URL, backend: REDIS_URL });
  let pyWorker: PythonWorker | undefined;
  let py52Worker: PythonWorker | undefined;
  let tsWorker: Worker | undefined;
  let app: CeleryApp;
  let receiver: EventReceiver;

  beforeAll(async () => {
    const common = { brokerUrl: REDIS_URL, resultBackend: REDIS_URL };
    [pyWorker, py52Worker, tsWorker] = await Promise.all([
      startPythonWorker({
        ...common,
        line: '5.7',
        queues: `${queue}-py57`,
        nodename: py57,
        pool: 'prefork',
        concurrency: 1,
      }),
      startPythonWorker({ ...common, line: '5.2', queues: `${queue}-py52`, nodename: py52 }),
      startWorker(
        { ...common, acceptContent: ['json', 'msgpack', 'yaml'] },
        { queues: [`${queue}-ts`], hostname: ts, sendEvents: true },
      ),
    ]);
    app = createApp({ brokerUrl: REDIS_URL, resultBackend: REDIS_URL });
    receiver = await app.eventReceiver();
  });

  afterAll(async () => {
    await receiver.close();
    await app.close();
    await Promise.all([pyWorker?.stop(), py52Worker?.stop(), tsWorker?.shutdown()]);
  });

  const celery = async (...args: string[]): Promise<Record<string, unknown>> => {
    const r = await run(
      python('5.7'),
      ['-m', 'celery', '-A', 'peer.app', ...args, '--json', '-t', '3', '-d', `${py57},${ts}`],
      { cwd: PEERS, env },
    );
    // Python's json: `result_backend_max_retries` is `Infinity` on both sides.
    return pyJsonLoads(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
  };

  it('inspect stats: the same keys, broker and rusage included', async () => {
    const r = await celery('inspect', 'stats');
    const p = r[py57] as Record<string, Record<string, unknown>>;
    const t = r[ts] as Record<string, Record<string, unknown>>;
    expect(keys(t)).toEqual(keys(p));
    expect(Object.keys(t.rusage ?? {})).toHaveLength(16);
    expect(t.broker).toEqual(p.broker);
  });

  it('inspect conf with defaults has Celery’s table', async () => {
    const r = await celery('inspect', 'conf', '1');
    const p = r[py57] as Record<string, unknown>;
    const t = r[ts] as Record<string, unknown>;
    expect(Object.keys(t).sort()).toEqual(Object.keys(p).sort());
    expect(t.broker_url).toBe(p.broker_url);
    expect(Object.keys(t).length).toBeGreaterThan(200);
  });

  it.each([
    [['inspect', 'registered', 'serializer', 'max_retries']],
    [['inspect', 'memsample']],
    [['inspect', 'memdump']],
    [['inspect', 'objgraph']],
    [['inspect', 'query_task', 'nope']],
    [['control', 'election']],
  ])('%j answers as the Python worker', async (args) => {
    const r = await celery(...args);
    const byNode = Array.isArray(r) ? Object.assign({}, ...(r as object[])) : r;
    expect((byNode as Record<string, unknown>)[ts]).toEqual(
      (byNode as Record<string, unknown>)[py57],
    );
  });

  it('registered shows a rate limit set by control', async () => {
    await celery('control', 'rate_limit', 'conformance.add', '7/m');
    const r = await celery('inspect', 'registered', 'rate_limit');
    expect(r[ts]).toEqual(r[py57]);
    expect(r[ts]).toContain('conformance.add [rate_limit=7/m]');
  });

  it('pool commands without a resizable pool answer as a solo-pool worker', async () => {
    const replies = await app.control.broadcast(
      'pool_grow',
      { n: '2' },
      { reply: true, destination: [ts, py52], timeout: 3 },
    );
    const byNode = Object.assign({}, ...(replies ?? [])) as Record<string, unknown>;
    expect(byNode[ts]).toEqual(byNode[py52]);
    expect(byNode[ts]).toEqual({
      error: "AttributeError(\"'TaskPool' object has no attribute 'grow'\")",
    });
    const auto = await app.control.autoscale(3, 1, { reply: true, destination: [ts, py52] });
    expect(Object.assign({}, ...(auto ?? []))).toEqual({
      [ts]: { error: "ValueError('Autoscale not enabled')" },
      [py52]: { error: "ValueError('Autoscale not enabled')" },
    });
  });

  it('Node inspect() reaches Python 5.7, Python 5.2 and TS workers', async () => {
    const i = app.control.inspect({ destination: [py57, py52, ts], timeout: 3 });
    expect(await i.ping()).toEqual({
      [py57]: { ok: 'pong' },
      [py52]: { ok: 'pong' },
      [ts]: { ok: 'pong' },
    });
    const active = await i.active();
    expect(Object.keys(active ?? {}).sort()).toEqual([py52, py57, ts].sort());
    const stats = await i.stats();
    for (const n of [py57, py52, ts]) {
      expect(Object.keys(stats?.[n] ?? {})).toEqual(
        expect.arrayContaining(['total', 'pid', 'pool', 'broker', 'rusage']),
      );
    }
    expect(await app.control.inspect({ destination: ts, timeout: 3 }).clock()).toEqual({
      clock: expect.any(Number) as number,
    });
  });

  it('revoke with terminate=1 (as Flower sends it) terminates a running TS task', async () => {
    const res = await app.sendTask('conformance.sleep', { args: [30], queue: `${queue}-ts` });
    const i = app.control.inspect({ destination: [ts], timeout: 3 });
    for (let n = 0; n < 50; n++) {
      const a = (await i.active())?.[ts];
      if (Array.isArray(a) && a.length > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const replies = await app.control.broadcast(
      'revoke',
      { task_id: res.id, terminate: 1, signal: 'SIGTERM' },
      { reply: true, destination: [ts], timeout: 3 },
    );
    expect(replies).toEqual([{ [ts]: { ok: `terminate: ${res.id}` } }]);
  });

  it('the event receiver follows tasks on Python 5.7, 5.2 and TS workers, with State', async () => {
    const seen: CeleryEvent[] = [];
    receiver.on('task-succeeded', (e: CeleryEvent) => seen.push(e));
    const ids: Record<string, string> = {};
    for (const [node, q] of [
      [py57, `${queue}-py57`],
      [py52, `${queue}-py52`],
      [ts, `${queue}-ts`],
    ] as const) {
      ids[node] = (await app.sendTask('conformance.add', { args: [2, 3], queue: q })).id;
    }
    const want = new Set(Object.values(ids));
    // The async iterator sees the same stream; stop once every task succeeded.
    for await (const e of receiver) {
      if (e.type === 'task-succeeded' && typeof e.uuid === 'string') want.delete(e.uuid);
      if (want.size === 0) break;
    }
    for (const [node, id] of Object.entries(ids)) {
      const t = receiver.state?.tasks.get(id);
      expect(t?.state).toBe('SUCCESS');
      expect(t?.worker).toBe(node);
      expect(t?.fields.name).toBe('conformance.add');
      expect(t?.fields.result).toBe('5');
      expect(receiver.state?.workers.get(node)?.alive).toBe(true);
    }
    expect(seen.map((e) => e.uuid).sort()).toEqual(Object.values(ids).sort());
  });

  it('revoke_by_stamped_headers: recorded, and a stamped task arriving later is discarded', async () => {
    const stamp = uniq('stamp');
    const replies = await app.control.revokeByStampedHeaders(
      { mon: [stamp] },
      { reply: true, destination: [ts, py57], timeout: 3 },
    );
    const byNode = Object.assign({}, ...(replies ?? [])) as Record<string, unknown>;
    expect(byNode[ts]).toEqual(byNode[py57]);
    expect(byNode[ts]).toEqual({
      ok: `headers {'mon': ['${stamp}']} flagged as revoked, but not terminated`,
    });
    const stamped = { stamped_headers: ['mon'], stamps: { mon: [stamp] } };
    const [onTs, onPy] = await Promise.all([
      app.sendTask('conformance.add', { args: [1, 1], queue: `${queue}-ts`, headers: stamped }),
      app.sendTask('conformance.add', { args: [1, 1], queue: `${queue}-py57`, headers: stamped }),
    ]);
    for (const r of [onTs, onPy]) {
      await expect(r.get({ timeout: 10 })).rejects.toThrow();
      expect((await r.meta()).status).toBe('REVOKED');
    }
  });
});
