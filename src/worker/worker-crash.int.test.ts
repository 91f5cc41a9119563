import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import {
  AMQP_URL,
  PEERS,
  REDIS_RESTORE_URL as REDIS_URL,
  exited,
  peerEnv,
  produce,
  python,
  spawnWorker,
  uniq,
} from '../../test/support/worker/int-helpers';

jest.setTimeout(120_000);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * `conformance.crash_once` (acks_late, reject_on_worker_lost) kills its worker process with
 * SIGKILL while the message is unacked; the message must come back, never be lost.
 */
describe('acks_late redelivery after the TypeScript worker is killed', () => {
  const redis = new Redis(REDIS_URL);
  afterAll(() => {
    redis.disconnect();
  });

  function workerEnv(broker: string): NodeJS.ProcessEnv {
    return {
      ...process.env,
      CELERY_BROKER_URL: broker,
      CELERY_RESULT_BACKEND: REDIS_URL,
      CONFORMANCE_REDIS_URL: REDIS_URL,
    };
  }

  async function crashOnce(broker: string, queue: string, args: string[] = []): Promise<string> {
    const child = await spawnWorker(
      ['--app', 'conformance/app/index.ts', '-Q', queue, '-n', `${uniq('crash')}@%h`, ...args],
      workerEnv(broker),
    );
    const id = uniq('crash');
    await produce(peerEnv({ broker, backend: REDIS_URL }), queue, [
      { id, task: 'conformance.crash_once', args: [id], no_wait: true },
    ]);
    // SIGKILL, seen directly or through the tsx launcher as 128 + 9.
    expect([137, 'SIGKILL']).toContain(await exited(child));
    expect(await redis.get(`conformance:crash:${id}`)).toBe('1');
    return id;
  }

  it('Redis: a restarted TS worker restores the unacked message (visibility timeout)', async () => {
    const queue = uniq('ts-crash');
    const id = await crashOnce(REDIS_URL, queue);
    // The delivery sits in kombu's unacked hash, exactly where a Python worker would leave it.
    expect(await redis.hexists('unacked', await tagOf(redis, id))).toBe(1);
    await sleep(1200);
    const again = await spawnWorker(
      ['--app', 'conformance/app/index.ts', '-Q', queue, '--visibility-timeout', '1'],
      workerEnv(REDIS_URL),
    );
    try {
      const out = await produce(peerEnv({ broker: REDIS_URL, backend: REDIS_URL }), queue, [
        { id, task: 'conformance.crash_once', get_only: true },
      ]);
      expect(out[id]).toMatchObject({ state: 'SUCCESS', repr: "'survived'" });
    } finally {
      again.kill('SIGTERM');
      await exited(again);
    }
  });

  it('Redis: a Python worker restores and runs the killed TS worker’s message', async () => {
    const queue = uniq('ts-crash');
    const id = await crashOnce(REDIS_URL, queue);
    await sleep(1200);
    const env = peerEnv({
      broker: REDIS_URL,
      backend: REDIS_URL,
      extra: { WORKER_VT_SECONDS: '1' },
    });
    const py = spawn(
      python(),
      [
        '-m',
        'celery',
        '-A',
        'peer.worker_vt_app',
        'worker',
        '-Q',
        queue,
        '-P',
        'solo',
        '--without-mingle',
        '--without-gossip',
        '-n',
        `${uniq('py')}@%h`,
        '-l',
        'warning',
      ],
      { cwd: PEERS, env, stdio: 'ignore' },
    );
    try {
      const out = await produce(
        env,
        queue,
        [{ id, task: 'conformance.crash_once', get_only: true }],
        '5.7',
        30,
      );
      expect(out[id]).toMatchObject({ state: 'SUCCESS', repr: "'survived'" });
    } finally {
      py.kill('SIGTERM');
      await exited(py);
    }
  });

  it('RabbitMQ: the broker requeues on connection loss and the next worker runs it', async () => {
    const queue = uniq('ts-crash');
    const id = await crashOnce(AMQP_URL, queue);
    const again = await spawnWorker(
      ['--app', 'conformance/app/index.ts', '-Q', queue],
      workerEnv(AMQP_URL),
    );
    try {
      const out = await produce(peerEnv({ broker: AMQP_URL, backend: REDIS_URL }), queue, [
        { id, task: 'conformance.crash_once', get_only: true },
      ]);
      expect(out[id]).toMatchObject({ state: 'SUCCESS', repr: "'survived'" });
    } finally {
      again.kill('SIGTERM');
      await exited(again);
    }
  });
});

/** The delivery tag of the unacked entry carrying task `id`. */
async function tagOf(redis: Redis, id: string): Promise<string> {
  const all = await redis.hgetall('unacked');
  for (const [tag, v] of Object.entries(all)) if (v.includes(id)) return tag;
  return '<none>';
}
