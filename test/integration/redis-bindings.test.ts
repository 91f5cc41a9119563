import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { createApp } from '../../src/app/app';

/**
 * The binding tables a queue declaration leaves in Redis, ours against real kombu's, per line:
 * kombu 5.7 adds `_kombu.binding_permanent.<exchange>`, kombu 5.2 does not.
 */
const root = resolve(__dirname, '..', '..');
const URL = 'redis://127.0.0.1:6379/12';
const run = promisify(execFile);

async function tables(r: Redis, exchange: string): Promise<Record<string, string[]>> {
  const keys = (await r.keys(`_kombu.binding*.${exchange}`)).sort();
  const out: Record<string, string[]> = {};
  for (const k of keys)
    out[k.replace(exchange, '<ex>')] = (await r.smembers(k)).map((m) =>
      m.replaceAll(exchange, '<q>'),
    );
  return out;
}

describe.each(['5.7', '5.2'] as const)('Redis binding tables, Celery %s', (line) => {
  const redis = new Redis(URL);
  afterAll(async () => {
    await redis.flushdb();
    redis.disconnect();
  });

  it('our declaration leaves the same tables as a Python producer', async () => {
    const pyQueue = `cw-bind-py-${randomUUID().slice(0, 8)}`;
    const tsQueue = `cw-bind-ts-${randomUUID().slice(0, 8)}`;
    const py = join(root, 'python-peers', `.venv-${line}`, 'bin', 'python');
    await run(
      py,
      [
        '-c',
        `from peer.app import app; app.send_task('conformance.add', (1, 2), queue='${pyQueue}'); app.close()`,
      ],
      {
        cwd: join(root, 'python-peers'),
        env: { ...process.env, CELERY_BROKER_URL: URL, CELERY_RESULT_BACKEND: URL },
      },
    );
    const app = createApp({ brokerUrl: URL, resultBackend: URL, celeryLine: line, env: {} });
    try {
      await app.sendTask('conformance.add', { args: [1, 2], queue: tsQueue, ignoreResult: true });
    } finally {
      await app.close();
    }
    const theirs = await tables(redis, pyQueue);
    expect(Object.keys(theirs).length).toBeGreaterThan(0);
    expect(await tables(redis, tsQueue)).toEqual(theirs);
  });
});
