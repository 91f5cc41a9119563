import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startNodeWorker, type NodeWorkerProcess } from '../support/node-worker';
import { until } from '../support/pool/flower';
import { AMQP_URL, PEERS, ROOT, uniq } from '../support/worker/int-helpers';

jest.setTimeout(240_000);

const run = promisify(execFile);
/** The pool tests' own Redis database (results, and the Redis broker). */
const REDIS = process.env.POOL_TEST_REDIS ?? 'redis://127.0.0.1:6379/3';
const TS_APP = join(ROOT, 'test', 'support', 'pool', 'flower-app.ts');

interface PoolStats {
  pool: { processes: number[]; 'max-concurrency': number };
  autoscaler?: { max: number; min: number };
}

/**
 * `celery control pool_grow|pool_shrink|pool_restart|autoscale` and `celery inspect stats` —
 * Celery 5.7's own CLI, as an operator types them — acting on a `celery-wire worker -P prefork`
 * on Redis and on RabbitMQ (issue 15: pool control from `celery control`).
 */
describe.each([
  ['Redis', REDIS],
  ['RabbitMQ', AMQP_URL],
] as const)('celery control on the thread pool on %s', (_b, broker) => {
  const base = uniq('poolcli');
  const node = (k: string): string => `${base}-${k}@cli`;
  const workers: NodeWorkerProcess[] = [];
  const env = { ...process.env, CELERY_BROKER_URL: broker, CELERY_RESULT_BACKEND: REDIS };

  beforeAll(async () => {
    const start = (k: string, args: string[]): Promise<NodeWorkerProcess> =>
      startNodeWorker({
        args: ['-A', TS_APP, '-P', 'prefork', '-Q', `${base}-${k}`, '-n', node(k), ...args],
        env,
        readyTimeoutMs: 120_000,
      });
    workers.push(
      ...(await Promise.all([start('fixed', ['-c', '2']), start('auto', ['--autoscale', '3,1'])])),
    );
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
  });

  /** `celery -A flower_app <args> -d <node> --json`: the reply for that node. */
  const celery = async (k: string, ...args: string[]): Promise<unknown> => {
    const r = await run(
      join(PEERS, '.venv-5.7', 'bin', 'celery'),
      ['-A', 'flower_app', ...args, '-d', node(k), '--json', '-t', '5'],
      { cwd: join(ROOT, 'test', 'support', 'pool'), env },
    );
    const parsed = JSON.parse(r.stdout) as unknown;
    // `control` prints a list of {node: reply}; `inspect` a {node: reply} object.
    const one = Array.isArray(parsed) ? (parsed[0] as Record<string, unknown>) : parsed;
    return (one as Record<string, unknown>)[node(k)];
  };
  const stats = async (k: string): Promise<PoolStats> =>
    (await celery(k, 'inspect', 'stats')) as PoolStats;

  it('pool_grow, pool_shrink and pool_restart change the threads inspect stats reports', async () => {
    expect((await stats('fixed')).pool.processes).toHaveLength(2);
    expect(await celery('fixed', 'control', 'pool_grow', '2')).toEqual({ ok: 'pool will grow' });
    expect((await stats('fixed')).pool.processes).toHaveLength(4);
    expect(await celery('fixed', 'control', 'pool_shrink', '3')).toEqual({
      ok: 'pool will shrink',
    });
    const kept = (await stats('fixed')).pool.processes;
    expect(kept).toHaveLength(1);
    expect(await celery('fixed', 'control', 'pool_restart')).toEqual({ ok: 'reload started' });
    const now = (await stats('fixed')).pool.processes;
    expect(now).toHaveLength(1);
    expect(now).not.toEqual(kept);
    // Without --autoscale, as Celery: the autoscale command is refused.
    expect(await celery('fixed', 'control', 'autoscale', '3', '1')).toEqual({
      error: "ValueError('Autoscale not enabled')",
    });
  });

  it('autoscale updates the range of an --autoscale worker; pool_grow is refused', async () => {
    expect(await celery('auto', 'control', 'autoscale', '4', '2')).toEqual({
      ok: 'autoscale now max=4 min=2',
    });
    const s = await until('the autoscaler at min 2', async () => {
      const x = await stats('auto');
      return x.pool.processes.length >= 2 ? x : undefined;
    });
    expect(s.autoscaler).toMatchObject({ max: 4, min: 2 });
    expect(await celery('auto', 'control', 'pool_grow', '1')).toEqual({
      error: 'pool_grow is not supported with autoscale. Adjust autoscale range instead.',
    });
  });
});
