import { resolveConfig } from '../config/config';
import type { Delivery } from '../brokers/broker';
import { encodeTaskMessage } from '../protocol/task-message';
import { WorkerControl, type WorkerActions } from './control-target';
import { Pool } from './pool';
import { TaskStrategy } from './strategy';
import { defineTask, TaskRegistry } from './task';
import type { WorkerEnv } from './worker-env';
import { WorkerState } from './worker-state';

const NOW = Date.parse('2026-01-02T03:04:05Z');

/** A delivery whose ack/reject are recorded, and which can be voided like a consumer reset. */
interface TestDelivery extends Delivery {
  session: number;
  isVoid: boolean;
  settled: string[];
}

function delivery(
  id: string,
  tag: number,
  session = 1,
  opts: { countdown?: number; expires?: number } = {},
): TestDelivery {
  const raw = encodeTaskMessage(
    {
      task: 't.wait',
      id,
      args: [id],
      ...(opts.countdown === undefined ? {} : { eta: new Date(NOW + opts.countdown) }),
      ...(opts.expires === undefined ? {} : { expires: new Date(NOW + opts.expires) }),
    },
    { now: new Date(NOW), origin: 'gen@h', replyTo: '' },
  );
  const d: TestDelivery = {
    message: raw,
    deliveryInfo: { exchange: '', routing_key: 'q' },
    deliveryTag: tag,
    redelivered: false,
    queue: 'q',
    session,
    isVoid: false,
    settled: [],
    ack: () => {
      d.settled.push('ack');
      return Promise.resolve();
    },
    reject: (requeue) => {
      d.settled.push(`reject:${String(requeue)}`);
      return Promise.resolve();
    },
  };
  return d;
}

function setup(concurrency: number, acksLate = true) {
  const releases: (() => void)[] = [];
  const runs: string[] = [];
  const wait = defineTask(
    't.wait',
    (id: unknown) =>
      new Promise<string>((res) => {
        runs.push(String(id));
        releases.push(() => {
          res(String(id));
        });
      }),
    { params: ['id'], acksLate },
  );
  const registry = new TaskRegistry([wait]);
  const config = resolveConfig({});
  const state = new WorkerState('w@h', registry, config, [{ name: 'q' }], concurrency, NOW);
  const logs: string[] = [];
  const clock = { now: NOW };
  const env: WorkerEnv = {
    state,
    backend: null,
    config,
    now: () => clock.now,
    log: (_l, m) => logs.push(m),
    sendEvent: () => undefined,
    publish: () => Promise.resolve(),
  };
  const pool = new Pool(env, () => undefined);
  const strategy = new TaskStrategy(env, pool);
  return { state, pool, strategy, runs, releases, logs, registry, clock };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('pool keyed by delivery (celery/worker/state.py, request.py)', () => {
  it('two copies of one task id are two requests: the cap holds and the drain waits for both', async () => {
    const { state, pool, strategy, runs, releases } = setup(1);
    const first = delivery('same', 1, 1);
    const copy = delivery('same', 1, 2); // the redelivered copy: same tag number, new session
    await strategy.onDelivery(first);
    await strategy.onDelivery(copy);
    await tick();
    expect(runs).toEqual(['same']); // concurrency 1: the copy waits
    expect(state.active.size).toBe(1);
    expect(state.reserved.size).toBe(1);
    releases.shift()?.();
    await tick();
    await tick();
    expect(first.settled).toEqual(['ack']);
    expect(runs).toEqual(['same', 'same']);
    let drained = false;
    const drain = pool.drain(() => false).then(() => (drained = true));
    await tick();
    expect(drained).toBe(false);
    releases.shift()?.();
    await drain;
    expect(copy.settled).toEqual(['ack']);
  });

  it('a consumer reset drops void reserved and ETA-held requests; a running one finishes without acking', async () => {
    const { state, pool, strategy, runs, releases } = setup(1);
    const running = delivery('r', 1);
    const reserved = delivery('p', 2);
    const eta = delivery('e', 3, 1, { countdown: 60_000 });
    for (const d of [running, reserved, eta]) await strategy.onDelivery(d);
    await tick();
    expect([state.active.size, state.reserved.size, state.scheduled.size]).toEqual([1, 1, 1]);
    for (const d of [running, reserved, eta]) d.isVoid = true;
    expect(pool.dropVoid()).toBe(2);
    expect([state.active.size, state.reserved.size, state.scheduled.size]).toEqual([1, 0, 0]);
    releases.shift()?.();
    await pool.drain(() => false);
    await tick();
    expect(runs).toEqual(['r']); // the dropped ones never run here: their copies will
    expect(running.settled).toEqual([]); // void: ack skipped (a known no-op)
  });

  it('an invalid rate_limit sent by control is refused and not stored', async () => {
    const { state, registry, strategy, runs } = setup(2);
    const actions = { log: () => undefined, resetRateLimit: jest.fn() } as unknown as WorkerActions;
    const control = new WorkerControl(state, actions);
    for (const bad of ['abc', '10/min', 'x/s', '1/d']) {
      expect(() => control.setRateLimit('t.wait', bad)).toThrow('invalid rate limit');
    }
    expect(registry.get('t.wait')?.options.rateLimit).toBeUndefined();
    expect(control.setRateLimit('t.wait', '10/m')).toBe(true);
    expect(registry.get('t.wait')?.options.rateLimit).toBe('10/m');
    await strategy.onDelivery(delivery('after', 9));
    await tick();
    expect(runs).toEqual(['after']); // the bucket is valid: the task is not stuck
  });

  it('an ETA task that expired while held is discarded at its ETA, even with every slot busy (apply_eta_task → execute_using_pool → revoked())', async () => {
    const { state, strategy, runs, releases, logs, clock } = setup(1);
    const busy = delivery('busy', 1);
    const held = delivery('held', 2, 1, { countdown: 30, expires: 10 });
    await strategy.onDelivery(busy);
    await strategy.onDelivery(held);
    expect(state.scheduled.size).toBe(1);
    clock.now = NOW + 1000; // past both the ETA and `expires` when the timer fires
    await new Promise((r) => setTimeout(r, 60));
    await tick();
    expect(logs).toContain('Discarding expired task: t.wait[held]');
    expect(held.settled).toEqual(['ack']);
    expect(runs).toEqual(['busy']); // still running: the expired task did not wait for its slot
    expect(state.scheduled.size + state.reserved.size).toBe(0);
    releases.shift()?.();
  });
});
