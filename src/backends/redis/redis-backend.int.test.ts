import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { CeleryTimeoutError } from '../../errors/errors';
import { prepareException } from '../../protocol/exception';
import type { PyDateTime } from '../../serialization/py-values';
import { PyFloat, type PyValue } from '../../serialization/py-values';
import { startPythonWorker, type PythonWorker } from '../../../test/support/client/python-worker';
import { loadFixture } from '../../../test/support/fixtures';
import type { TaskMeta } from '../backend';
import { RedisBackend } from './redis-backend';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..', '..', '..');
const PEERS = join(ROOT, 'python-peers');
const URL = 'redis://127.0.0.1:6379/7';
const py = (line: string): string => join(PEERS, `.venv-${line}`, 'bin', 'python');

async function python(
  line: string,
  code: string,
  env: Record<string, string> = {},
): Promise<string> {
  const { stdout } = await run(py(line), ['-c', code], {
    cwd: PEERS,
    env: { ...process.env, CELERY_BROKER_URL: URL, CELERY_RESULT_BACKEND: URL, ...env },
  });
  return stdout.trim().split('\n').pop() ?? '';
}

describe('RedisBackend against Python Celery 5.7 / 5.2', () => {
  const queue = `be-${randomUUID().slice(0, 8)}`;
  let worker: PythonWorker | undefined;
  let backend: RedisBackend;
  let raw: Redis;

  beforeAll(async () => {
    backend = new RedisBackend({ url: URL });
    raw = new Redis(URL, { protocol: 2 });
    worker = await startPythonWorker({
      line: '5.7',
      brokerUrl: URL,
      resultBackend: URL,
      queues: queue,
      nodename: `${queue}@%h`,
    });
  }, 30_000);

  afterAll(async () => {
    await worker?.stop();
    await backend.close();
    await backend.close(); // idempotent
    raw.disconnect();
  });

  it('reads SUCCESS, FAILURE, PROGRESS and times out, with results written by a Python worker', async () => {
    const [a, f, p, s] = [1, 2, 3, 4].map(() => randomUUID()) as [string, string, string, string];
    const seen: TaskMeta[] = [];
    // Subscribe and wait BEFORE the tasks exist, as a client does (on_task_call).
    const waits = Promise.all([
      backend.waitForResult(a, { timeoutMs: 20_000 }),
      backend.waitForResult(f, { timeoutMs: 20_000 }),
      backend.waitForResult(p, { timeoutMs: 20_000, onState: (m) => seen.push(m) }),
    ]);
    await python(
      '5.7',
      `from peer.app import app
q = ${JSON.stringify(queue)}
app.send_task('conformance.add', (2, 3), queue=q, task_id=${JSON.stringify(a)})
app.send_task('conformance.fail', ('KeyError', 'nope'), queue=q, task_id=${JSON.stringify(f)})
app.send_task('conformance.progress', (3,), queue=q, task_id=${JSON.stringify(p)})
app.send_task('conformance.sleep', (2,), queue=q, task_id=${JSON.stringify(s)})`,
    );
    const [ma, mf, mp] = await waits;
    expect(ma.status).toBe('SUCCESS');
    expect(ma.result).toBe(5);
    expect(ma.dateDone).toMatch(/\+00:00$/);
    expect(mf.status).toBe('FAILURE');
    expect(mf.error).toMatchObject({ excType: 'KeyError', excModule: 'builtins', args: ['nope'] });
    expect(mf.traceback).toMatch(/KeyError: 'nope'/);
    expect(mp.result).toBe(3);
    expect(seen.map((m) => m.status)).toEqual(['PROGRESS', 'PROGRESS', 'PROGRESS', 'SUCCESS']);
    expect(seen[1]?.result).toEqual({ current: 2, total: 3 });
    await expect(backend.waitForResult(s, { timeoutMs: 300 })).rejects.toThrow(CeleryTimeoutError);
    await expect(backend.waitForResult(s, { timeoutMs: 300 })).rejects.toHaveProperty(
      'name',
      'TimeoutError',
    );
    expect((await backend.getTaskMeta(s)).status).toBe('PENDING');
    const late = await backend.waitForResult(s, { timeoutMs: 10_000 });
    expect(late.result).toBe(2);
    // Unsubscribed once everything was READY.
    expect(await raw.pubsub('NUMSUB', backend.taskKey(a))).toEqual([backend.taskKey(a), 0]);
    await backend.forget(a);
    expect((await backend.getTaskMeta(a)).status).toBe('PENDING');
  });

  it('writes exactly the bytes Celery writes, with SETEX and PUBLISH on the key', async () => {
    const fx = loadFixture('celery-5.7/result/failure-valueerror-extended-group.json');
    const input = fx.input as Record<string, PyValue> & { request: Record<string, PyValue> };
    const req = input.request;
    const w = new RedisBackend({
      url: URL,
      extended: true,
      now: () => input.now as PyDateTime,
    });
    const id = randomUUID();
    const sub = new Redis(URL, { protocol: 2 });
    const got = new Promise<string>((res) =>
      sub.on('message', (_c: string, m: string) => {
        res(m);
      }),
    );
    await sub.subscribe(w.taskKey(id));
    const exc = input.result as { exc_type: string; exc_module: string; args: PyValue[] };
    await w.storeResult(
      id,
      prepareException({ excType: exc.exc_type, excModule: exc.exc_module, args: exc.args }),
      'FAILURE',
      {
        traceback: input.traceback as string,
        request: {
          task: req.task as string,
          args: req.args ?? null,
          kwargs: req.kwargs ?? null,
          hostname: req.hostname as string,
          retries: req.retries as number,
          deliveryInfo: req.delivery_info as { routing_key: string },
          group: req.group as string,
          parentId: req.parent_id as string,
          children: [],
        },
      },
    );
    const commands = fx.expected.commands as string[][];
    const expected = (commands[0]?.[2] ?? '').replaceAll(input.task_id as string, id);
    expect(await raw.get(w.taskKey(id))).toBe(expected);
    expect(await got).toBe(expected);
    expect(await raw.ttl(w.taskKey(id))).toBeGreaterThan(86_000);
    sub.disconnect();
    await w.close();
  });

  it('recovers a result stored while the subscriber was away (MGET on reconnect)', async () => {
    const name = `be-rc-${randomUUID().slice(0, 8)}`;
    const b = new RedisBackend({ url: URL, clientName: name });
    const id = randomUUID();
    const wait = b.waitForResult(id, { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 200));
    // Written without PUBLISH: only the reconnect MGET can see it.
    await raw.set(b.taskKey(id), JSON.stringify({ status: 'SUCCESS', result: 7, task_id: id }));
    const clients = (await raw.client('LIST')) as string;
    const subId = /id=(\d+) [^\n]* name=(\S+) [^\n]*sub=1/.exec(
      clients
        .split('\n')
        .filter((l) => l.includes(`name=${name} `) && l.includes('sub=1 '))
        .join('\n'),
    );
    expect(subId?.[1]).toBeDefined();
    await raw.client('KILL', 'ID', subId?.[1] ?? '0');
    expect((await wait).result).toBe(7);
    await b.close();
  });

  it.each(['5.7', '5.2'])('results we store are read by Python %s AsyncResult', async (line) => {
    const [ok, bad, retry, prog] = [1, 2, 3, 4].map(() => randomUUID()) as [
      string,
      string,
      string,
      string,
    ];
    await backend.storeResult(ok, { a: [1, new PyFloat(2), null], big: 2n ** 70n }, 'SUCCESS');
    const tb = 'Traceback (most recent call last):\n  File "x.ts", line 1\nValueError: boom\n';
    await backend.storeResult(
      bad,
      prepareException({ excType: 'ValueError', excModule: 'builtins', args: ['boom', 42] }),
      'FAILURE',
      { traceback: tb },
    );
    await backend.storeResult(
      retry,
      prepareException({ excType: 'KeyError', excModule: 'builtins', args: ['again'] }),
      'RETRY',
    );
    await backend.storeResult(prog, { current: 1, total: 3 }, 'PROGRESS');
    // A SUCCESS is never overwritten.
    await backend.storeResult(ok, 'late', 'FAILURE');
    const out = await python(
      line,
      `import json
from peer.app import app
ids = ${JSON.stringify([ok, bad, retry, prog])}
out = {}
for i in ids:
    r = app.AsyncResult(i)
    out[i] = [r.state, repr(r.result), type(r.result).__module__, r.traceback]
out['get'] = repr(app.AsyncResult(ids[0]).get(timeout=5))
try:
    app.AsyncResult(ids[1]).get(timeout=5)
except Exception as e:
    out['raised'] = [type(e).__name__, type(e).__module__, list(e.args)]
print(json.dumps(out))`,
    );
    const o = JSON.parse(out) as Record<string, unknown>;
    expect(o[ok]).toEqual([
      'SUCCESS',
      "{'a': [1, 2.0, None], 'big': 1180591620717411303424}",
      'builtins',
      null,
    ]);
    expect(o[bad]).toEqual(['FAILURE', "ValueError('boom', 42)", 'builtins', tb]);
    expect(o[retry]).toEqual(['RETRY', "KeyError('again')", 'builtins', null]);
    expect(o[prog]).toEqual(['PROGRESS', "{'current': 1, 'total': 3}", 'builtins', null]);
    expect(o.raised).toEqual(['ValueError', 'builtins', ['boom', 42]]);
  });
});
