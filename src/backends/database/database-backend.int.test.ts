import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { startPythonWorker, type PythonWorker } from '../../../test/support/client/python-worker';
import { ensureDatabase } from '../../../test/support/database';
import { startNodeWorker, type NodeWorkerProcess } from '../../../test/support/node-worker';
import { BackendGetMetaError } from '../../errors/errors';
import { DatabaseBackend } from './database-backend';
import { parseDatabaseUrl } from './db-url';
import { createSqlClient } from './sql-client';

/**
 * The database result backend against real Celery 5.7.0 / 5.2.7 (SQLAlchemy 2.0, psycopg2,
 * PyMySQL from `python-peers/.venv-<line>-db`, built by `python-peers/bootstrap-db.sh`) on the
 * local PostgreSQL and MariaDB, broker Redis DB 13: a Python worker stores and Node reads, the
 * celery-wire worker stores and Python's `AsyncResult.get` reads, plus RETRY states and
 * `GroupResult.save/restore` both ways. Each line has its own databases (its tables differ).
 */
const run = promisify(execFile);
const ROOT = resolve(__dirname, '..', '..', '..');
const PEERS = join(ROOT, 'python-peers');
const BROKER = 'redis://127.0.0.1:6379/13';

const CASES = [
  ['5.7', 'db+postgresql://postgres@127.0.0.1:5432/celery_wire_db_57'],
  ['5.2', 'db+postgresql+psycopg2://postgres@127.0.0.1:5432/celery_wire_db_52'],
  ['5.7', 'db+mysql+pymysql://root@127.0.0.1:3306/celery_wire_db_57'],
  // `db+mysql://` means MySQLdb to SQLAlchemy (not installed): Python peers use PyMySQL.
  ['5.2', 'db+mysql+pymysql://root@127.0.0.1:3306/celery_wire_db_52'],
] as const;

describe.each(CASES)('database backend, Celery %s, %s', (line, url) => {
  const queue = `cw-db-${line}-${randomUUID().slice(0, 8)}`;
  const nodeQueue = `${queue}-node`;
  const py = join(PEERS, `.venv-${line}-db`, 'bin', 'python');
  const env = { ...process.env, CELERY_BROKER_URL: BROKER, CELERY_RESULT_BACKEND: url };
  let pyWorker: PythonWorker | undefined;
  let nodeWorker: NodeWorkerProcess | undefined;
  let backend: DatabaseBackend;

  const python = async (code: string): Promise<string> => {
    const { stdout } = await run(py, ['-c', code], { cwd: PEERS, env, timeout: 60_000 });
    return stdout.trim().split('\n').pop() ?? '';
  };

  beforeAll(async () => {
    await ensureDatabase(url);
    backend = new DatabaseBackend({ url, profile: `celery-${line}`, pollIntervalMs: 100 });
    const saved = process.env.CELERY_VENV;
    process.env.CELERY_VENV = join(PEERS, `.venv-${line}-db`);
    try {
      [pyWorker, nodeWorker] = await Promise.all([
        startPythonWorker({
          line,
          brokerUrl: BROKER,
          resultBackend: url,
          queues: queue,
          nodename: `${queue}@%h`,
        }),
        startNodeWorker({
          args: [
            '--app',
            'conformance/app/index.ts',
            '-Q',
            nodeQueue,
            '-n',
            `${nodeQueue}@%h`,
            '--celery-line',
            line,
          ],
          env,
        }),
      ]);
    } finally {
      if (saved === undefined) delete process.env.CELERY_VENV;
      else process.env.CELERY_VENV = saved;
    }
  }, 90_000);

  afterAll(async () => {
    await Promise.all([pyWorker?.stop(), nodeWorker?.stop()]);
    await backend.close();
  });

  it('a Python worker stores SUCCESS and FAILURE with traceback; Node reads them', async () => {
    const [a, f] = [randomUUID(), randomUUID()];
    await python(`from peer.app import app
app.send_task('conformance.add', (2, 3), queue=${JSON.stringify(queue)}, task_id=${JSON.stringify(a)})
app.send_task('conformance.fail', ('KeyError', 'nope'), queue=${JSON.stringify(queue)}, task_id=${JSON.stringify(f)})`);
    const ma = await backend.waitForResult(a, { timeoutMs: 30_000 });
    expect(ma.status).toBe('SUCCESS');
    expect(ma.result).toBe(5);
    expect(ma.dateDone).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/);
    const mf = await backend.waitForResult(f, { timeoutMs: 30_000 });
    expect(mf.status).toBe('FAILURE');
    expect(mf.error?.excType).toBe('KeyError');
    expect(mf.traceback).toContain('KeyError');
  }, 60_000);

  it("celery-wire's worker stores results; Python's AsyncResult.get reads them", async () => {
    const out = await python(`import json
from peer.app import app
q = ${JSON.stringify(nodeQueue)}
ok = app.send_task('conformance.add', (20, 22), queue=q).get(timeout=30)
f = app.send_task('conformance.fail', ('ValueError', 'bad'), queue=q)
try:
    f.get(timeout=30)
    err = None
except Exception as e:
    err = [type(e).__name__, str(e)]
print(json.dumps({'ok': ok, 'err': err, 'state': f.state, 'tb': 'ValueError' in (f.traceback or '')}))`);
    expect(JSON.parse(out)).toEqual({
      ok: 42,
      err: ['ValueError', 'bad'],
      state: 'FAILURE',
      tb: true,
    });
  }, 60_000);

  it('RETRY states both ways', async () => {
    const [p, n] = [randomUUID(), randomUUID()];
    await python(`from peer.app import app
app.backend.mark_as_retry(${JSON.stringify(p)}, KeyError('again'), traceback='Traceback\\nKeyError: again\\n')`);
    const mp = await backend.getTaskMeta(p);
    expect(mp.status).toBe('RETRY');
    expect(mp.error?.excType).toBe('KeyError');
    await backend.storeResult(
      n,
      { exc_type: 'ValueError', exc_message: ['later'], exc_module: 'builtins' },
      'RETRY',
      { traceback: 'Traceback\nValueError: later\n' },
    );
    const out = await python(`from peer.app import app
r = app.AsyncResult(${JSON.stringify(n)})
print(r.state, repr(r.result), 'later' in r.traceback)`);
    expect(out).toBe("RETRY ValueError('later') True");
  }, 60_000);

  it('GroupResult.save() in Python restores in Node, and back', async () => {
    const [g1, g2, c1, c2] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    await python(`from peer.app import app
from celery.result import GroupResult, AsyncResult
GroupResult(${JSON.stringify(g1)}, [AsyncResult(${JSON.stringify(c1)}, app=app), AsyncResult(${JSON.stringify(c2)}, app=app)], app=app).save()`);
    expect(await backend.restoreGroup(g1)).toEqual([
      [g1, null],
      [
        [[c1, null], null],
        [[c2, null], null],
      ],
    ]);
    await backend.saveGroup(g2, [[g2, null], [[[c2, null], null]]]);
    const out = await python(`from peer.app import app
g = app.GroupResult.restore(${JSON.stringify(g2)})
print(g.id, [r.id for r in g.results])`);
    expect(out).toBe(`${g2} ['${c2}']`);
    await backend.deleteGroup(g2);
    expect(await backend.restoreGroup(g2)).toBeNull();
  }, 60_000);

  it('a row that cannot be read is a typed error naming it', async () => {
    const id = `bad-${randomUUID()}`;
    const u = parseDatabaseUrl(url);
    const sql = createSqlClient(u);
    try {
      await backend.storeResult(id, 1, 'SUCCESS');
      // A pickle calling os.system: refused by the safe reader, never executed.
      const evil = Buffer.from('80049515000000000000008c026f73948c0673797374656d9493942e', 'hex');
      await sql.query(
        u.dialect === 'postgresql'
          ? 'UPDATE celery_taskmeta SET result = ? WHERE task_id = ?'
          : 'UPDATE `celery_taskmeta` SET `result` = ? WHERE `task_id` = ?',
        [evil, id],
      );
      const err = await backend.getTaskMeta(id).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BackendGetMetaError);
      expect((err as Error).message).toContain(id);
      expect(((err as Error).cause as Error).name).toBe('UnpicklingError');
      expect(((err as Error).cause as { global?: string }).global).toBe('os.system');
    } finally {
      await sql.close();
    }
  }, 30_000);
});
