import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { startPythonWorker, type PythonWorker } from '../../../test/support/client/python-worker';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { AmqpBroker } from '../../brokers/amqp/amqp-broker';
import { prepareException } from '../../protocol/exception';
import type { CeleryProfileName } from '../../protocol/profiles';
import type { TaskMeta } from '../backend';
import { RpcBackend, rpcReplyQueue } from './rpc-backend';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..', '..', '..');
const PEERS = join(ROOT, 'python-peers');
const AMQP = 'amqp://guest:guest@127.0.0.1:5672//';
const ENV = { CELERY_BROKER_URL: AMQP, CELERY_RESULT_BACKEND: 'rpc://' };
const py = (line: string): string => join(PEERS, `.venv-${line}`, 'bin', 'python');

async function python(line: string, code: string): Promise<string> {
  const { stdout } = await run(py(line), ['-c', code], {
    cwd: PEERS,
    env: { ...process.env, ...ENV },
  });
  return stdout.trim().split('\n').pop() ?? '';
}

describe('RpcBackend against Python Celery (RabbitMQ)', () => {
  const queue = `rpc-${randomUUID().slice(0, 8)}`;
  let worker: PythonWorker | undefined;
  let broker: AmqpBroker;

  beforeAll(async () => {
    broker = new AmqpBroker({ url: AMQP });
    await broker.connect();
    worker = await startPythonWorker({
      line: '5.7',
      brokerUrl: AMQP,
      resultBackend: 'rpc://',
      queues: queue,
      nodename: `${queue}@%h`,
    });
  }, 30_000);

  afterAll(async () => {
    await worker?.stop();
    await broker.close();
  });

  it('reads replies a Python 5.7 worker sends to our reply queue', async () => {
    const backend = new RpcBackend({ broker, oid: randomUUID() });
    const [a, f, p] = [1, 2, 3].map(() => randomUUID()) as [string, string, string];
    await backend.onTaskCall(a); // declares + consumes the reply queue before publishing
    const seen: TaskMeta[] = [];
    const waits = Promise.all([
      backend.waitForResult(a, { timeoutMs: 20_000 }),
      backend.waitForResult(f, { timeoutMs: 20_000 }),
      backend.waitForResult(p, { timeoutMs: 20_000, onState: (m) => seen.push(m) }),
    ]);
    await python(
      '5.7',
      `from peer.app import app
q, rt = ${JSON.stringify(queue)}, ${JSON.stringify(backend.oid)}
app.send_task('conformance.add', (2, 3), queue=q, task_id=${JSON.stringify(a)}, reply_to=rt)
app.send_task('conformance.fail', ('ValueError', 'bad'), queue=q, task_id=${JSON.stringify(f)}, reply_to=rt)
app.send_task('conformance.progress', (2,), queue=q, task_id=${JSON.stringify(p)}, reply_to=rt)`,
    );
    const [ma, mf, mp] = await waits;
    expect(ma.result).toBe(5);
    expect(Object.keys(ma.raw)).toEqual([
      'status',
      'result',
      'traceback',
      'children',
      'date_done',
      'task_id',
    ]);
    expect(mf.status).toBe('FAILURE');
    expect(mf.error).toMatchObject({ excType: 'ValueError', excModule: 'builtins', args: ['bad'] });
    expect(mf.traceback).toMatch(/ValueError: bad/);
    expect(mp.result).toBe(2);
    expect(seen.map((m) => m.status)).toEqual(['PROGRESS', 'PROGRESS', 'SUCCESS']);
    expect((await backend.getTaskMeta(a)).status).toBe('SUCCESS');
    await backend.close();
    await backend.close();
  });

  it.each<[string, CeleryProfileName]>([
    ['5.7', 'celery-5.7'],
    ['5.2', 'celery-5.2'],
  ])('results we publish are read by Python %s rpc:// AsyncResult', async (line, profile) => {
    const oid = randomUUID();
    const w = new RpcBackend({ broker, oid: randomUUID(), profile });
    // Python declares the same queue on get(): identical flags or RabbitMQ answers 406.
    await broker.declareQueue(rpcReplyQueue(oid, profile, undefined));
    const [ok, bad] = [randomUUID(), randomUUID()];
    const request = (id: string) => ({ replyTo: oid, correlationId: id, children: [] });
    await w.storeResult(ok, { current: 1 }, 'PROGRESS', { request: request(ok) });
    await w.storeResult(ok, [1, 'two'], 'SUCCESS', { request: request(ok) });
    await w.storeResult(
      bad,
      prepareException({ excType: 'KeyError', excModule: 'builtins', args: ['k'] }),
      'FAILURE',
      { request: request(bad), traceback: 'Traceback (most recent call last):\nKeyError: k\n' },
    );
    await w.storeResult(randomUUID(), 1, 'SUCCESS', { request: { children: [] } }); // no reply_to
    const out = await python(
      line,
      `import json
from peer.app import app
app.backend.__dict__['oid'] = ${JSON.stringify(oid)}
out = {'ok': repr(app.AsyncResult(${JSON.stringify(ok)}).get(timeout=10))}
r = app.AsyncResult(${JSON.stringify(bad)})
try:
    r.get(timeout=10)
except Exception as e:
    out['bad'] = [type(e).__name__, list(e.args), r.traceback]
print(json.dumps(out))`,
    );
    expect(JSON.parse(out)).toEqual({
      ok: "[1, 'two']",
      bad: ['KeyError', ['k'], 'Traceback (most recent call last):\nKeyError: k\n'],
    });
    await w.close();
  });

  it('a result returned because the reply queue is gone for a moment is sent again', async () => {
    // Celery 5.6's client rebuilds its consumer on every idle second; the auto_delete reply
    // queue vanishes until the new consumer declares it again. Here: no queue at the first
    // publish (RabbitMQ returns it, mandatory), the queue appears 60 ms later.
    const oid = randomUUID();
    const w = new RpcBackend({ broker, oid: randomUUID(), profile: 'celery-5.6' });
    const id = randomUUID();
    const request = { replyTo: oid, correlationId: id, children: [] };
    await w.storeResult(id, 7, 'SUCCESS', { request });
    await new Promise((r) => setTimeout(r, 60));
    const reader = new RpcBackend({ broker, oid, profile: 'celery-5.6' });
    const meta = await reader.waitForResult(id, { timeoutMs: 10_000 });
    expect(meta).toMatchObject({ status: 'SUCCESS', result: 7 });
    // A reply queue that never comes back: the result is dropped (as Celery drops it), the
    // store itself does not fail or wait.
    await expect(
      w.storeResult(randomUUID(), 1, 'SUCCESS', { request: { ...request, replyTo: randomUUID() } }),
    ).resolves.toBeUndefined();
    await reader.close();
    await w.close();
  });
});
