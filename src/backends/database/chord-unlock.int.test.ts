import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { startPythonWorker, type PythonWorker } from '../../../test/support/client/python-worker';
import { ensureDatabase } from '../../../test/support/database';
import { startNodeWorker, type NodeWorkerProcess } from '../../../test/support/node-worker';
import { createApp } from '../../app/app';
import { applyCanvas, chord } from '../../canvas/index';
import { sq } from '../../../test/support/canvas/py-suite';

/**
 * Chords on the database backend (no native join) through `celery.chord_unlock`, with header
 * members on a real Celery worker and on celery-wire's worker and the body (and so the
 * chord_unlock polling task, routed to the body's queue) on either side; built by Python Celery
 * and by the Node client. Broker Redis DB 13.
 */
const run = promisify(execFile);
const ROOT = resolve(__dirname, '..', '..', '..');
const PEERS = join(ROOT, 'python-peers');
const BROKER = 'redis://127.0.0.1:6379/13';

describe.each([
  ['5.7', 'db+postgresql://postgres@127.0.0.1:5432/celery_wire_db_57'],
  ['5.2', 'db+mysql+pymysql://root@127.0.0.1:3306/celery_wire_db_52'],
] as const)('chords via celery.chord_unlock, Celery %s, %s', (line, url) => {
  const tag = randomUUID().slice(0, 8);
  const pyQ = `cw-cu-py-${tag}`;
  const nodeQ = `cw-cu-node-${tag}`;
  const py = join(PEERS, `.venv-${line}-db`, 'bin', 'python');
  const env = { ...process.env, CELERY_BROKER_URL: BROKER, CELERY_RESULT_BACKEND: url };
  let pyWorker: PythonWorker | undefined;
  let nodeWorker: NodeWorkerProcess | undefined;

  const python = async (code: string): Promise<string> => {
    const { stdout } = await run(py, ['-c', code], { cwd: PEERS, env, timeout: 90_000 });
    return stdout.trim().split('\n').pop() ?? '';
  };

  beforeAll(async () => {
    await ensureDatabase(url);
    const saved = process.env.CELERY_VENV;
    process.env.CELERY_VENV = join(PEERS, `.venv-${line}-db`);
    try {
      [pyWorker, nodeWorker] = await Promise.all([
        startPythonWorker({
          line,
          brokerUrl: BROKER,
          resultBackend: url,
          queues: pyQ,
          nodename: `${pyQ}@%h`,
        }),
        startNodeWorker({
          args: [
            '--app',
            'conformance/app/index.ts',
            '-Q',
            nodeQ,
            '-n',
            `${nodeQ}@%h`,
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
  });

  it.each([
    ['the TS worker', 'node'],
    ['the Python worker', 'py'],
  ] as const)(
    'Python builds the chord, mixed header, body and chord_unlock on %s',
    async (_n, side) => {
      const bodyQ = side === 'node' ? nodeQ : pyQ;
      const out = await python(`import json
from celery import chord, signature
from peer.app import app
h = [signature('conformance.add', (1, 1), queue=${JSON.stringify(pyQ)}),
     signature('conformance.add', (2, 2), queue=${JSON.stringify(nodeQ)}),
     signature('conformance.add', (3, 3), queue=${JSON.stringify(pyQ)})]
r = chord(h)(signature('conformance.tsum', queue=${JSON.stringify(bodyQ)}))
print(json.dumps(r.get(timeout=60)))`);
      expect(JSON.parse(out)).toBe(12);
    },
    120_000,
  );

  it('a failing header member fails the body with ChordError (TS worker runs chord_unlock)', async () => {
    const out = await python(`from celery import chord, signature
from peer.app import app
h = [signature('conformance.add', (1, 1), queue=${JSON.stringify(pyQ)}),
     signature('conformance.fail', ('KeyError', 'nope'), queue=${JSON.stringify(nodeQ)})]
r = chord(h)(signature('conformance.tsum', queue=${JSON.stringify(nodeQ)}))
# \`r.get()\` re-raises the failed parent (the header) first; the body's own state is the point.
body = app.AsyncResult(r.id)
body.get(timeout=60, propagate=False, disable_sync_subtasks=False)
print(body.state, type(body.result).__name__, str(body.result))`);
    expect(out).toMatch(/^FAILURE ChordError Dependency [0-9a-f-]+ raised KeyError\('nope'\)$/);
  }, 120_000);

  it('Node builds the chord: it sends celery.chord_unlock as Celery does, the Python worker runs it', async () => {
    const app = createApp({ env: {}, brokerUrl: BROKER, resultBackend: url, celeryLine: line });
    try {
      const res = await applyCanvas(
        chord([sq(nodeQ, 'add', 5, 5), sq(pyQ, 'add', 6, 6)], sq(pyQ, 'tsum')),
        app,
      );
      expect(await res.get({ timeout: 60 })).toBe(22);
    } finally {
      await app.close();
    }
  }, 120_000);
});
