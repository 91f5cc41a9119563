import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startNodeWorker, type NodeWorkerProcess } from '../support/node-worker';
import {
  shape,
  startFlower,
  startPythonPoolWorker,
  until,
  workerPageTabs,
  type Flower,
} from '../support/pool/flower';
import type { PythonWorkerProcess } from '../support/python-worker-process';
import { AMQP_URL, PEERS, ROOT, uniq } from '../support/worker/int-helpers';

jest.setTimeout(300_000);

const run = promisify(execFile);
/** The pool tests' own Redis database (results, and the Redis broker). */
const REDIS = process.env.POOL_TEST_REDIS ?? 'redis://127.0.0.1:6379/3';
const TS_APP = join(ROOT, 'test', 'support', 'pool', 'flower-app.ts');

type Info = Record<string, unknown> & {
  stats: { pool: { processes: number[]; 'max-concurrency': number } } & Record<string, unknown>;
  active: { id: string }[];
  reserved: unknown[];
  scheduled: unknown[];
  revoked: string[];
  active_queues: { name: string }[];
  registered: string[];
  conf: Record<string, unknown>;
};
interface Result {
  state: string;
  result: unknown;
  traceback?: string;
}
const KINDS = ['ts', 'py'] as const;
type Kind = (typeof KINDS)[number];

/**
 * Flower 2.2 (with Celery 5.7) watching and driving a `celery-wire worker -P prefork -E` beside
 * a Celery 5.7 prefork worker, through Flower's HTTP API (issue 11: every tab filled, every
 * action works; issue 15: pool control from Flower). Tasks are sent by Flower's own Celery 5.7
 * (`/api/task/async-apply`), so the producer is Python. Each check is made on both workers and
 * the TS worker's answer compared with the Python worker's.
 */
describe.each([
  ['Redis', REDIS],
  ['RabbitMQ', AMQP_URL],
] as const)('Flower 2.2 against TS and Celery 5.7 prefork workers on %s', (_b, broker) => {
  const base = uniq('flower');
  const node = (k: string): string => `${base}-${k}@flower`;
  const queue = (k: string): string => `${base}-${k}`;
  let flower: Flower;
  const stops: (() => Promise<void>)[] = [];

  const startTs = async (k: string, args: string[]): Promise<NodeWorkerProcess> => {
    const w = await startNodeWorker({
      args: ['-A', TS_APP, '-P', 'prefork', '-E', '-Q', queue(k), '-n', node(k), ...args],
      env: { ...process.env, CELERY_BROKER_URL: broker, CELERY_RESULT_BACKEND: REDIS },
      readyTimeoutMs: 120_000,
    });
    stops.push(() => w.stop());
    return w;
  };
  const startPy = async (k: string, args: string[]): Promise<PythonWorkerProcess> => {
    const w = await startPythonPoolWorker({
      broker,
      backend: REDIS,
      queue: queue(k),
      nodename: node(k),
      args,
    });
    stops.push(() => w.stop());
    return w;
  };

  beforeAll(async () => {
    flower = await startFlower({ broker, backend: REDIS });
    stops.push(() => flower.stop());
    await Promise.all([
      startTs('ts', ['-c', '2']),
      startPy('py', ['-c', '2']),
      startTs('tsAuto', ['--autoscale', '3,1']),
      startPy('pyAuto', ['--autoscale', '3,1']),
    ]);
    await until('Flower lists all four workers', async () => {
      const r = await flower.get('/api/workers?refresh=1');
      const body = r.body as Record<string, unknown>;
      const all = ['ts', 'py', 'tsAuto', 'pyAuto'].every((k) => node(k) in body);
      return all ? true : undefined;
    });
  });
  afterAll(async () => {
    await Promise.all(stops.map((s) => s()));
  });

  const enc = encodeURIComponent;
  const info = async (k: string): Promise<Info> => {
    const r = await flower.get(`/api/workers?refresh=1&workername=${enc(node(k))}`);
    const i = (r.body as Record<string, Info | undefined>)[node(k)];
    if (!i) throw new Error(`no info for ${node(k)}: ${JSON.stringify(r.body)}`);
    return i;
  };
  const apply = async (task: string, k: string, body: Record<string, unknown>): Promise<string> => {
    const r = await flower.post(`/api/task/async-apply/${task}`, {
      ...body,
      queue: queue(k),
    });
    return (r.body as { 'task-id': string })['task-id'];
  };
  const result = async (id: string): Promise<Result> =>
    (await flower.get(`/api/task/result/${id}`)).body as Result;
  const settled = async (id: string, state = 'SUCCESS'): Promise<Result> => {
    let last: Result | undefined;
    try {
      return await until(`${id} ${state}`, async () => {
        last = await result(id);
        return last.state === state ? last : undefined;
      });
    } catch (e) {
      throw new Error(`${String(e)}; last: ${JSON.stringify(last)}`);
    }
  };
  /** Flower's reply text with the worker's name taken out, to compare TS and Python replies. */
  const anon = (k: string, v: unknown): string => JSON.stringify(v).split(node(k)).join('<w>');
  const processes = async (k: string): Promise<number[]> => (await info(k)).stats.pool.processes;

  it('shows every worker-info section, shaped as for the Python worker', async () => {
    const seen: Partial<Record<Kind, Info>> = {};
    const pages: Partial<Record<Kind, Record<string, string[]>>> = {};
    // A revoke is broadcast to every worker: one, before either snapshot, fills both lists alike.
    const never = uniq('never-run');
    expect((await flower.post(`/api/task/revoke/${never}`)).status).toBe(200);
    for (const k of KINDS) {
      // -c 2: two spins run, the third waits reserved; the countdown one is scheduled.
      const spins = [];
      for (let i = 0; i < 3; i++) spins.push(await apply('pool.spin', k, { args: [3000] }));
      await apply('pool.add', k, { args: [1, 2], countdown: 120 });
      seen[k] = await until(`${k}: active 2, reserved 1, scheduled 1, revoked`, async () => {
        const i = await info(k);
        const full =
          i.active.length === 2 &&
          i.reserved.length === 1 &&
          i.scheduled.length === 1 &&
          i.revoked.includes(never);
        return full ? i : undefined;
      });
      // The worker page renders from the snapshot just taken (Flower's cache).
      const page = await flower.get(`/worker/${enc(node(k))}`);
      expect(page.status).toBe(200);
      pages[k] = workerPageTabs(page.body as string);
      for (const id of spins) await settled(id);
    }
    // Every tab of the page is filled with the rows the Python worker's has: the labels of the
    // Pool, Broker and System tabs, the rows of Queues and Tasks (active, reserved, scheduled,
    // revoked). Limits lists the registered tasks and Config the settings, which differ by app.
    const tabs = pages as Record<Kind, Record<string, string[]>>;
    expect(Object.keys(tabs.ts).sort()).toEqual(Object.keys(tabs.py).sort());
    for (const tab of ['pool', 'broker', 'system']) {
      expect([tab, tabs.ts[tab]]).toEqual([tab, tabs.py[tab]]);
      expect(tabs.ts[tab]?.length).toBeGreaterThan(3);
    }
    for (const tab of ['queues', 'tasks']) {
      expect([tab, tabs.ts[tab]?.length]).toEqual([tab, tabs.py[tab]?.length]);
    }
    const { ts, py } = seen as Record<Kind, Info>;
    expect(Object.keys(ts).sort()).toEqual(Object.keys(py).sort());
    for (const s of ['stats', 'active_queues', 'scheduled', 'reserved', 'active', 'revoked']) {
      expect([s, shape(ts[s])]).toEqual([s, shape(py[s])]);
    }
    for (const t of ['pool.add', 'pool.spin', 'pool.forever']) {
      expect(ts.registered).toContain(t);
      expect(py.registered).toContain(t);
    }
    expect(ts.conf).toMatchObject({ worker_pool_restarts: true });
    expect(py.conf).toMatchObject({ worker_pool_restarts: true });
  });

  it('grows, shrinks and restarts the pool; stats show it', async () => {
    const replies: Partial<Record<Kind, string[]>> = {};
    for (const k of KINDS) {
      const before = await processes(k);
      expect(before).toHaveLength(2);
      const grow = await flower.post(`/api/worker/pool/grow/${enc(node(k))}?n=1`);
      await until(`${k} has 3 processes`, async () =>
        (await processes(k)).length === 3 ? true : undefined,
      );
      const shrink = await flower.post(`/api/worker/pool/shrink/${enc(node(k))}?n=1`);
      const kept = await until(`${k} has 2 processes`, async () => {
        const p = await processes(k);
        return p.length === 2 ? p : undefined;
      });
      const restart = await flower.post(`/api/worker/pool/restart/${enc(node(k))}`);
      // billiard replaces a child when it next leaves its job loop (`Pool.restart` sets each
      // child's sentinel); the TS pool replaces idle threads at once. Checked on TS only.
      if (k === 'ts') {
        await until(`${k} has 2 new processes`, async () => {
          const p = await processes(k);
          return p.length === 2 && p.every((x) => !kept.includes(x)) ? true : undefined;
        });
      }
      // Without --autoscale, Flower's Autoscale is refused by the worker.
      const auto = await flower.post(`/api/worker/pool/autoscale/${enc(node(k))}?min=1&max=2`);
      replies[k] = [grow, shrink, restart, auto].map((r) => anon(k, r));
      const id = await apply('pool.add', k, { args: [2, 3] });
      expect((await settled(id)).result).toBe(5);
    }
    expect(replies.ts).toEqual(replies.py);
    expect(replies.ts?.slice(0, 3).map((r) => JSON.parse(r) as { status: number })).toEqual([
      expect.objectContaining({ status: 200 }),
      expect.objectContaining({ status: 200 }),
      expect.objectContaining({ status: 200 }),
    ]);
  });

  it('autoscale changes the range of an --autoscale worker', async () => {
    const replies: Partial<Record<Kind, string[]>> = {};
    for (const k of ['tsAuto', 'pyAuto']) {
      const auto = await flower.post(`/api/worker/pool/autoscale/${enc(node(k))}?min=2&max=4`);
      expect(auto.status).toBe(200);
      await until(`${k} autoscales to max 4 with at least 2`, async () => {
        const s = (await info(k)).stats as Info['stats'] & { autoscaler: Record<string, number> };
        const { max, min } = s.autoscaler;
        return max === 4 && min === 2 && s.pool.processes.length >= 2 ? true : undefined;
      });
      // Celery refuses pool_grow with an autoscaler.
      const grow = await flower.post(`/api/worker/pool/grow/${enc(node(k))}?n=1`);
      expect(grow.status).toBe(403);
      replies[k === 'tsAuto' ? 'ts' : 'py'] = [auto, grow].map((r) => anon(k, r));
      expect(shape((await info(k)).stats)).toEqual(
        shape((await info(k === 'tsAuto' ? 'pyAuto' : 'tsAuto')).stats),
      );
    }
    expect(replies.ts).toEqual(replies.py);
  });

  it('sets rate and time limits; a 1 s hard limit fails a spinning task as Celery does', async () => {
    const replies: Partial<Record<Kind, string[]>> = {};
    const outcomes: Partial<Record<Kind, Result>> = {};
    for (const k of KINDS) {
      const w = enc(node(k));
      const rate = await flower.post(
        `/api/task/rate-limit/pool.add?workername=${w}&ratelimit=600/m`,
      );
      const limit = await flower.post(`/api/task/timeout/pool.spin?workername=${w}&hard=1`);
      const reg = await run(
        join(PEERS, '.venv-5.7', 'bin', 'celery'),
        [
          '-A',
          'flower_app',
          'inspect',
          'registered',
          'rate_limit',
          'time_limit',
          '-d',
          node(k),
          '--json',
          '-t',
          '5',
        ],
        {
          cwd: join(ROOT, 'test', 'support', 'pool'),
          env: { ...process.env, CELERY_BROKER_URL: broker, CELERY_RESULT_BACKEND: REDIS },
        },
      );
      const registered = (JSON.parse(reg.stdout) as Record<string, string[]>)[node(k)] ?? [];
      expect(registered).toContain('pool.add [rate_limit=600/m]');
      // Flower sends `hard` as a float; both keep it as sent and report `1.0`.
      expect(registered).toContain('pool.spin [time_limit=1.0]');
      const id = await apply('pool.spin', k, { args: [6000] });
      if (k === 'ts') {
        outcomes.ts = await settled(id, 'FAILURE');
      } else {
        // Celery 5.7's prefork worker reports the new limit but does not apply it: the
        // strategy's Request class captured `task.time_limit` when it was built
        // (`celery/worker/request.py`, `create_request_cls`, `default_time_limit`). The same
        // 1.0 s limit sent with the message is what its TimeLimitExceeded looks like (as the
        // float Flower sent: JSON `1.0`, TimeLimitExceeded(1.0)).
        expect((await settled(id)).state).toBe('SUCCESS');
        const body = `{"args": [6000], "time_limit": 1.0, "queue": ${JSON.stringify(queue(k))}}`;
        const sent = await flower.post('/api/task/async-apply/pool.spin', body);
        const limited = (sent.body as { 'task-id': string })['task-id'];
        outcomes.py = await settled(limited, 'FAILURE');
      }
      const reset = await flower.post(`/api/task/timeout/pool.spin?workername=${w}`);
      replies[k] = [rate, limit, reset].map((r) => anon(k, r));
    }
    expect(replies.ts).toEqual(replies.py);
    expect(outcomes.ts?.result).toBe(outcomes.py?.result);
    expect(outcomes.ts?.traceback).toBe(outcomes.py?.traceback);
  });

  it('revoke with terminate=true ends a running task REVOKED; the pool goes on', async () => {
    for (const k of KINDS) {
      const id = await apply('pool.forever', k, {});
      await until(`${k} runs ${id}`, async () =>
        (await info(k)).active.some((t) => t.id === id) ? true : undefined,
      );
      expect((await flower.post(`/api/task/revoke/${id}?terminate=true`)).status).toBe(200);
      await settled(id, 'REVOKED');
      await until(`Flower's events show ${id} REVOKED`, async () => {
        const t = await flower.get(`/api/task/info/${id}`);
        return (t.body as { state: string }).state === 'REVOKED' ? true : undefined;
      });
      expect((await settled(await apply('pool.add', k, { args: [20, 22] }))).result).toBe(42);
    }
  });

  it('adds and cancels a consumer', async () => {
    const replies: Partial<Record<Kind, string[]>> = {};
    for (const k of KINDS) {
      const extra = `${queue(k)}-extra`;
      const w = enc(node(k));
      const add = await flower.post(`/api/worker/queue/add-consumer/${w}?queue=${extra}`);
      expect(add.status).toBe(200);
      await until(`${k} consumes ${extra}`, async () =>
        (await info(k)).active_queues.some((q) => q.name === extra) ? true : undefined,
      );
      const r = await flower.post('/api/task/async-apply/pool.add', {
        args: [3, 4],
        queue: extra,
      });
      expect((await settled((r.body as { 'task-id': string })['task-id'])).result).toBe(7);
      const cancel = await flower.post(`/api/worker/queue/cancel-consumer/${w}?queue=${extra}`);
      await until(`${k} no longer consumes ${extra}`, async () =>
        (await info(k)).active_queues.some((q) => q.name === extra) ? undefined : true,
      );
      replies[k] = [add, cancel].map((x) => anon(k, x).split(extra).join('<q>'));
    }
    expect(replies.ts).toEqual(replies.py);
  });

  it("lists the workers' tasks in /api/tasks and /api/task/info as for the Python worker", async () => {
    const got: Partial<Record<Kind, [unknown, unknown]>> = {};
    for (const k of KINDS) {
      const id = await apply('pool.add', k, { args: [5, 6] });
      await settled(id);
      const task = await until(`Flower's events show ${id} succeeded`, async () => {
        const t = await flower.get(`/api/task/info/${id}`);
        const b = t.body as { state: string; worker: string };
        return b.state === 'SUCCESS' ? b : undefined;
      });
      expect(task.worker).toBe(node(k));
      const list = await flower.get(`/api/tasks?workername=${enc(node(k))}`);
      const listed = (list.body as Record<string, { worker: string } | undefined>)[id];
      expect(listed?.worker).toBe(node(k));
      got[k] = [shape(task), shape(listed)];
    }
    expect(got.ts).toEqual(got.py);
  });

  it('shuts the workers down; Flower sees them go offline', async () => {
    for (const k of KINDS) {
      const r = await flower.post(`/api/worker/shutdown/${enc(node(k))}`);
      expect(r.body).toEqual({ message: 'Shutting down!' });
      await until(`${k} offline`, async () => {
        const s = await flower.get('/api/workers?status=1');
        return (s.body as Record<string, boolean>)[node(k)] === false ? true : undefined;
      });
    }
  });
});
