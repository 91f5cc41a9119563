import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { prepareException } from '../../protocol/exception';
import { RedisBackend } from './redis-backend';

const run = promisify(execFile);
const PEERS = join(resolve(__dirname, '..', '..', '..'), 'python-peers');
const URL = 'redis://127.0.0.1:6379/7';

async function pythonResults(ids: readonly string[]): Promise<unknown> {
  const code = [
    'import json, sys',
    'from celery.result import AsyncResult',
    'from peer.app import app',
    'ids = json.loads(sys.argv[1])',
    'print(json.dumps([[AsyncResult(i, app=app).state, AsyncResult(i, app=app).result] for i in ids]))',
  ].join('\n');
  const { stdout } = await run(
    join(PEERS, '.venv-5.7', 'bin', 'python'),
    ['-c', code, JSON.stringify(ids)],
    { cwd: PEERS, env: { ...process.env, CELERY_BROKER_URL: URL, CELERY_RESULT_BACKEND: URL } },
  );
  return JSON.parse(stdout.trim().split('\n').pop() ?? 'null') as unknown;
}

describe('RedisResultWriter (batched result writes through RedisBackend)', () => {
  let raw: Redis;
  let backend: RedisBackend;
  beforeAll(() => {
    raw = new Redis(URL);
    backend = new RedisBackend({ url: URL });
  });
  afterAll(async () => {
    await backend.close();
    raw.disconnect();
  });

  it('stores and publishes every concurrent result, readable by Python Celery', async () => {
    const ids = Array.from({ length: 300 }, () => `wr-${randomUUID()}`);
    const sub = new Redis(URL, { protocol: 2 });
    const watched = ids.slice(0, 5).map((id) => backend.taskKey(id));
    const heard = new Map<string, string>();
    sub.on('message', (channel: string, m: string) => heard.set(channel, m));
    await sub.subscribe(...watched);
    const written = await Promise.all(
      ids.map((id, i) => backend.storeResult(id, i, 'SUCCESS', { request: { task: 't' } })),
    );
    expect(written).toHaveLength(ids.length);
    for (const [i, id] of ids.entries()) {
      const meta = await backend.getTaskMeta(id);
      expect([meta.status, meta.result]).toEqual(['SUCCESS', i]);
    }
    const ttl = await raw.ttl(backend.taskKey(ids[0] ?? ''));
    expect(ttl).toBeGreaterThan(86_000);
    // Every PUBLISH carries exactly the stored document.
    for (let t = 0; t < 100 && heard.size < watched.length; t++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const key of watched) expect(heard.get(key)).toBe(await raw.get(key));
    sub.disconnect();
    expect(await pythonResults(ids.slice(0, 3))).toEqual([
      ['SUCCESS', 0],
      ['SUCCESS', 1],
      ['SUCCESS', 2],
    ]);
  });

  it('never overwrites SUCCESS, also when both writes are issued in the same turn', async () => {
    const id = `wr-${randomUUID()}`;
    const exc = prepareException({ excType: 'ValueError', excModule: 'builtins', args: ['x'] });
    await Promise.all([
      backend.storeResult(id, 7, 'SUCCESS'),
      backend.storeResult(id, exc, 'FAILURE'),
      backend.storeResult(id, null, 'STARTED'),
    ]);
    const meta = await backend.getTaskMeta(id);
    expect([meta.status, meta.result]).toEqual(['SUCCESS', 7]);

    const other = `wr-${randomUUID()}`;
    await raw.set(
      backend.taskKey(other),
      JSON.stringify({ status: 'SUCCESS', result: 1, task_id: other }),
    );
    await backend.storeResult(other, exc, 'FAILURE');
    expect((await backend.getTaskMeta(other)).status).toBe('SUCCESS');
  });

  it('fails only the task whose current document cannot be decoded', async () => {
    const bad = `wr-${randomUUID()}`;
    const good = `wr-${randomUUID()}`;
    await raw.set(backend.taskKey(bad), '{not json');
    const [b, g] = await Promise.allSettled([
      backend.storeResult(bad, 1, 'SUCCESS'),
      backend.storeResult(good, 2, 'SUCCESS'),
    ]);
    expect(b.status).toBe('rejected');
    expect(g.status).toBe('fulfilled');
    expect(await raw.get(backend.taskKey(bad))).toBe('{not json');
    expect((await backend.getTaskMeta(good)).result).toBe(2);
  });

  it('stores failures with result_failure_expires and no expiry when expires is 0', async () => {
    const b = new RedisBackend({ url: URL, expiresSeconds: 0, failureExpiresSeconds: 60 });
    const ok = `wr-${randomUUID()}`;
    const ko = `wr-${randomUUID()}`;
    const exc = prepareException({ excType: 'KeyError', excModule: 'builtins', args: ['k'] });
    await Promise.all([b.storeResult(ok, 1, 'SUCCESS'), b.storeResult(ko, exc, 'FAILURE')]);
    expect(await raw.ttl(b.taskKey(ok))).toBe(-1);
    const ttl = await raw.ttl(b.taskKey(ko));
    expect(ttl).toBeGreaterThan(50);
    expect(ttl).toBeLessThanOrEqual(60);
    await b.close();
  });
});
