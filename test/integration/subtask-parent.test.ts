import { spawn, type ChildProcess } from 'node:child_process';
import { createApp, type CeleryApp } from '../../src/index';
import { TaskFailedError } from '../../src/errors/errors';
import { whenPythonWorkerReady, type PythonWorkerProcess } from '../support/python-worker-process';
import {
  PEERS,
  peerEnv,
  python,
  runPython,
  spawnWorker,
  uniq,
} from '../support/worker/int-helpers';

/**
 * Issue 11: what a task body sends is the running task's child, as Celery's `send_task` makes it
 * (`current_worker_task`): `parent_id` = the task's id, `root_id` = its root, and the result is
 * recorded in the task's stored `children` (`add_to_parent`; a group as one `GroupResult`, its
 * members not; `add_to_parent=False` not at all). `parent.py_spawn` on a real Celery worker and
 * `parent.ts_spawn` on the CLI worker (python-peers/peer/parent_peer.py,
 * test/support/parent/app.ts) send the same things; Python's `AsyncResult(id).children` reads
 * both, and each leaf, on either side, reports the ids it was sent with.
 */
const BROKER = 'redis://127.0.0.1:6379/0';
const BACKEND = 'redis://127.0.0.1:6379/0';

type Spawned = [string, string, string, string, string[]];

describe.each([
  ['5.7', 'prefork'],
  ['5.2', 'solo'],
] as const)('tasks sent from a task body: Celery %s, TS worker -P %s', (line, pool) => {
  const pyQueue = uniq('parent-py');
  const tsQueue = uniq('parent-ts');
  const extra = { PARENT_PY_QUEUE: pyQueue, PARENT_TS_QUEUE: tsQueue };
  const env = peerEnv({ broker: BROKER, backend: BACKEND, extra });
  let py: PythonWorkerProcess | undefined;
  let ts: ChildProcess | undefined;
  let app: CeleryApp;

  beforeAll(async () => {
    const child = spawn(
      python(line),
      [
        '-m',
        'celery',
        '-A',
        'peer.parent_peer',
        'worker',
        '-Q',
        pyQueue,
        '-n',
        `${uniq('py')}@%h`,
        '--without-gossip',
        '--without-mingle',
        '-P',
        'solo',
        '-l',
        'info',
      ],
      { cwd: PEERS, env, detached: true },
    );
    py = await whenPythonWorkerReady(child);
    ts = await spawnWorker(
      [
        '--app',
        'test/support/parent/app.ts',
        '-Q',
        tsQueue,
        '-n',
        `${uniq('ts')}@%h`,
        '-P',
        pool,
        '-c',
        '2',
      ],
      { ...process.env, CELERY_BROKER_URL: BROKER, CELERY_RESULT_BACKEND: BACKEND, ...extra },
    );
    app = createApp({ brokerUrl: BROKER, resultBackend: BACKEND, env: {} });
  }, 90_000);
  afterAll(async () => {
    await app.close();
    ts?.kill('SIGTERM');
    await py?.stop();
  });

  it.each([
    ['py', 'py'],
    ['py', 'ts'],
    ['ts', 'py'],
    ['ts', 'ts'],
  ] as const)(
    'parent.%s_spawn sending parent.%s_leaf: parent/root ids and children as Celery',
    async (spawner, leaf) => {
      const queue = spawner === 'py' ? pyQueue : tsQueue;
      const r = await app.sendTask<Spawned>(`parent.${spawner}_spawn`, {
        args: [`parent.${leaf}_leaf`],
        queue,
      });
      const [a, b, c, g, members] = await r.get({ timeout: 30_000 });
      expect(members).toHaveLength(2);
      // Every leaf was sent with the spawning task as parent and as root.
      const leaves = [a, b, c, ...members];
      const got = await Promise.all(
        leaves.map((id) => app.asyncResult<[string, string, number]>(id).get({ timeout: 30_000 })),
      );
      expect(got).toEqual([1, 2, 3, 4, 5].map((x) => [r.id, r.id, x]));
      // Python reads the spawning task's children: the two plain sends and the group.
      const children = await runPython<[string, string, string[]][]>(
        ['-m', 'peer.parent_peer', 'children', r.id],
        env,
        null,
        line,
      );
      expect(children).toEqual([
        ['AsyncResult', a, []],
        ['AsyncResult', b, []],
        ['GroupResult', g, members],
      ]);
    },
    60_000,
  );

  it.each(['py', 'ts'] as const)(
    'parent.%s_spawn_fail: the FAILURE keeps the child it sent',
    async (spawner) => {
      const r = await app.sendTask(`parent.${spawner}_spawn_fail`, {
        args: ['parent.py_leaf'],
        queue: spawner === 'py' ? pyQueue : tsQueue,
      });
      const err = await r.get({ timeout: 30_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TaskFailedError);
      const sent = (err as TaskFailedError).excMessage;
      expect(await app.asyncResult(sent).get({ timeout: 30_000 })).toEqual([r.id, r.id, 1]);
      const children = await runPython<[string, string, string[]][]>(
        ['-m', 'peer.parent_peer', 'children', r.id],
        env,
        null,
        line,
      );
      expect(children).toEqual([['AsyncResult', sent, []]]);
    },
    60_000,
  );
});
