import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  AMQP_URL,
  PEERS,
  REDIS_URL,
  peerEnv,
  python,
  runPython,
  startWorker,
  uniq,
} from '../../test/support/worker/int-helpers';

jest.setTimeout(90_000);

const run = promisify(execFile);

interface ControlReport {
  ping: Record<string, unknown>[];
  registered: Record<string, string[]>;
  scheduled: Record<string, { eta: string; request: { id: string } }[]>;
  active: Record<string, { id: string; acknowledged: boolean }[]>;
  revoke: Record<string, unknown>[];
  terminate: Record<string, unknown>[];
  sleep_state: string;
  eta_state: string;
  ok: number;
  rate_limit: Record<string, unknown>[];
  clock: Record<string, { clock: number }>;
  events: Record<string, Record<string, unknown>>;
}

/** `celery inspect`/`celery control` and event receivers from real Celery reach our worker. */
describe.each([
  ['redis', REDIS_URL],
  ['amqp', AMQP_URL],
])('remote control and events on %s', (_kind, broker) => {
  it('answers ping, inspect, revoke, terminate, rate_limit and emits events', async () => {
    const queue = uniq('ts-ctl');
    const node = `${uniq('ctl')}@testhost`;
    const w = await startWorker(
      { brokerUrl: broker, resultBackend: REDIS_URL },
      { queues: [queue], hostname: node, sendEvents: true },
    );
    try {
      const env = peerEnv({ broker, backend: REDIS_URL });
      // The `celery` command line itself, as an operator would run it.
      const cli = await run(
        python(),
        ['-m', 'celery', '-A', 'peer.app', 'inspect', 'ping', '-d', node, '--json', '-t', '2'],
        { cwd: PEERS, env },
      );
      expect(JSON.parse(cli.stdout.trim().split('\n').pop() ?? '{}')).toEqual({
        [node]: { ok: 'pong' },
      });
      const prefix = uniq('ctl');
      const r = await runPython<ControlReport>(['-m', 'peer.worker_control'], env, {
        node,
        queue,
        prefix,
      });
      expect(r.ping).toEqual([{ [node]: { ok: 'pong' } }]);
      expect(r.registered[node]).toContain('conformance.add');
      expect(r.scheduled[node]?.map((s) => s.request.id)).toEqual([`${prefix}-eta`]);
      expect(r.active[node]?.map((a) => [a.id, a.acknowledged])).toEqual([
        [`${prefix}-sleep`, true],
      ]);
      expect(r.revoke).toEqual([{ [node]: { ok: `tasks {'${prefix}-eta'} flagged as revoked` } }]);
      expect(r.terminate).toEqual([{ [node]: { ok: `terminate: ${prefix}-sleep` } }]);
      expect(r.sleep_state).toBe('REVOKED');
      expect(r.eta_state).toBe('REVOKED'); // 5.6.2+: stored at revoke time
      expect(r.ok).toBe(4);
      expect(r.rate_limit).toEqual([{ [node]: { ok: 'new rate limit set successfully' } }]);
      expect(r.clock[node]?.clock).toBeGreaterThan(0);
      const ev = r.events;
      for (const t of [
        'worker-heartbeat',
        'task-received',
        'task-started',
        'task-succeeded',
        'task-revoked',
      ]) {
        expect(ev[t]).toBeDefined();
      }
      // The first task-received the Python receiver saw: which task that is depends on when
      // its event queue was bound relative to the worker's first deliveries.
      expect(ev['task-received']).toMatchObject({ hostname: node, retries: 0 });
      expect(['conformance.add', 'conformance.sleep']).toContain(ev['task-received']?.name);
      expect(ev['task-revoked']).toMatchObject({ terminated: true, expired: false });
      expect(ev['worker-heartbeat']).toMatchObject({
        freq: expect.any(Number) as number,
        sw_sys: expect.any(String) as string,
      });
    } finally {
      await w.shutdown();
    }
  });
});
