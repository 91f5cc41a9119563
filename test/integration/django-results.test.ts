import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createApp, type CeleryApp } from '../../src/index';
import { PythonError } from '../../src/worker/exceptions';
import { defineTask } from '../../src/worker/task';
import type { Worker } from '../../src/worker/worker';
import { createSqlClient } from '../../src/backends/database/sql-client';
import { parseDatabaseUrl } from '../../src/backends/database/db-url';

/**
 * The `django-db` result backend against real Celery 5.7 + Django 5.2 + django-celery-results
 * 2.6 (python-peers/.venv-5.7-db) on the local PostgreSQL, tables made by Django's migrations:
 * a Python producer's task run by the TS worker and read back by Python, a Python worker's
 * results read by Node, the rows both sides write compared column by column, groups both ways.
 */
const run = promisify(execFile);
const ROOT = resolve(__dirname, '..', '..');
const PEERS = join(ROOT, 'python-peers');
const PY = join(PEERS, '.venv-5.7-db', 'bin', 'python');
const DB = 'postgresql://postgres@127.0.0.1:5432/obs_django';
const BROKER = 'redis://127.0.0.1:6379/0';
const tag = `${String(process.pid)}-${String(Date.now() % 100000)}`;
const pyQueue = `obs-dj-py-${tag}`;
const tsQueue = `obs-dj-ts-${tag}`;
const env: NodeJS.ProcessEnv = {
  ...process.env,
  PYTHONPATH: PEERS,
  DJANGO_DB_URL: DB,
  CELERY_BROKER_URL: BROKER,
  CELERY_RESULT_EXTENDED: '1',
  PY_QUEUE: pyQueue,
  TS_QUEUE: tsQueue,
};
const peer = async (...args: string[]): Promise<Record<string, unknown>[]> => {
  const { stdout } = await run(PY, ['-m', 'peer.django_peer.app', ...args], {
    cwd: PEERS,
    env,
    timeout: 90_000,
  });
  return stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{') || l.startsWith('[') || l === 'null')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
};
const sql = createSqlClient(parseDatabaseUrl(DB));

let app: CeleryApp;
let worker: Worker;
let py: ChildProcess | undefined;

beforeAll(async () => {
  const admin = createSqlClient({ ...parseDatabaseUrl(DB), database: 'postgres' });
  if ((await admin.query("SELECT 1 FROM pg_database WHERE datname = 'obs_django'")).length === 0)
    await admin.query('CREATE DATABASE obs_django');
  await admin.close();
  await peer('migrate');
  app = createApp({
    brokerUrl: BROKER,
    resultBackend: `django-db+${DB}`,
    resultExtended: true,
    tasks: [
      defineTask('dj.ts_add', (x: number, y: number) => x + y),
      defineTask('dj.add', (x: number, y: number) => x + y),
      defineTask('dj.ts_fail', () => {
        throw new PythonError('ValueError', 'ts boom', { excModule: 'builtins' });
      }),
    ],
  });
  worker = app.worker({ queues: [tsQueue], logger: { log: () => undefined } });
  await worker.start();
  py = spawn(PY, ['-m', 'peer.django_peer.app', 'worker'], {
    cwd: PEERS,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  await new Promise<void>((res, rej) => {
    const t = setTimeout(() => {
      rej(new Error(`django peer worker not ready:\n${out}`));
    }, 60_000);
    const on = (b: Buffer): void => {
      out += b.toString();
      if (/\bready\.\s*$/m.test(out)) {
        clearTimeout(t);
        res();
      }
    };
    py?.stdout?.on('data', on);
    py?.stderr?.on('data', on);
  });
});
afterAll(async () => {
  if (py?.pid !== undefined) process.kill(-py.pid, 'SIGTERM');
  await worker.shutdown();
  await app.close();
  await sql.close();
});

const row = async (id: string): Promise<Record<string, unknown>> => {
  const rows = await sql.query('SELECT * FROM django_celery_results_taskresult WHERE task_id = ?', [
    id,
  ]);
  expect(rows).toHaveLength(1);
  return rows[0] as Record<string, unknown>;
};

describe('django-db (django-celery-results) result backend', () => {
  it('Python producer → TS worker → Python reads the result', async () => {
    const [, meta] = await peer('produce', 'dj.ts_add', '[2, 3]');
    expect(meta).toMatchObject({
      status: 'SUCCESS',
      result: 5,
      name: 'dj.ts_add',
      args: '(2, 3)',
      kwargs: '{}',
      children: [],
    });
    expect(String(meta?.worker)).toMatch(/@/);
    const [, fail] = await peer('produce', 'dj.ts_fail', '[]');
    expect(fail).toMatchObject({ status: 'FAILURE', exc_type: 'ValueError', name: 'dj.ts_fail' });
    expect(String(fail?.traceback)).toContain('ValueError: ts boom');
  });

  it('Python worker stores → Node reads success and failure', async () => {
    const ok = await app.sendTask<number>('dj.add', { args: [20, 22], queue: pyQueue });
    expect(await ok.get({ timeout: 60 })).toBe(42);
    const meta = await (await app.backend()).getTaskMeta(ok.id);
    expect(meta.raw).toMatchObject({ name: 'dj.add', args: '(20, 22)', kwargs: '{}' });
    const bad = await app.sendTask('dj.fail', { queue: pyQueue });
    await expect(bad.get({ timeout: 60 })).rejects.toMatchObject({ excType: 'ValueError' });
  });

  it('the TS worker writes the row the Python worker writes for the same call', async () => {
    const a = await app.sendTask<number>('dj.add', { args: [1, 2], queue: pyQueue });
    const b = await app.sendTask<number>('dj.add', { args: [1, 2], queue: tsQueue });
    expect(await a.get({ timeout: 60 })).toBe(3);
    expect(await b.get({ timeout: 60 })).toBe(3);
    const [pyRow, tsRow] = [await row(a.id), await row(b.id)];
    for (const col of [
      'status',
      'content_type',
      'content_encoding',
      'result',
      'traceback',
      'meta',
      'task_args',
      'task_kwargs',
      'task_name',
      'periodic_task_name',
      'date_started',
    ])
      expect([col, tsRow[col]]).toEqual([col, pyRow[col]]);
    expect(tsRow.date_done).toBeInstanceOf(Date);
    expect(tsRow.date_created).toBeInstanceOf(Date);
  });

  it('groups: Node saves → Python restores, Python saves → Node restores', async () => {
    const backend = await app.backend();
    const gid = `obs-dj-g-${tag}`;
    const tuple = [
      [gid, null],
      [
        [['c1', null], null],
        [['c2', null], null],
      ],
    ];
    await backend.saveGroup(gid, tuple);
    expect(await peer('restore-group', gid)).toEqual([['c1', 'c2']]);
    const gid2 = `${gid}-py`;
    await peer('save-group', gid2, 'p1', 'p2');
    expect(await backend.restoreGroup(gid2)).toEqual([
      [gid2, null],
      [
        [['p1', null], null],
        [['p2', null], null],
      ],
    ]);
  });
});
