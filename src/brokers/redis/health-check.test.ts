import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { watchHealth } from './health-check';

/** A connection whose PING replies are controlled by the test (the unit under test is the timer logic). */
class FakeConnection extends EventEmitter {
  status = 'ready';
  pings = 0;
  drops = 0;
  private pending: (() => void)[] = [];
  ping(): Promise<string> {
    this.pings++;
    return new Promise((res) =>
      this.pending.push(() => {
        res('PONG');
      }),
    );
  }
  answer(): void {
    for (const r of this.pending.splice(0)) r();
  }
  disconnect(reconnect: boolean): void {
    if (reconnect) this.drops++;
    this.pending = [];
  }
}

function harness(interval: number, graceMs = 0) {
  const c = new FakeConnection();
  let t = 0;
  let tick: (() => void) | undefined;
  const stale: number[] = [];
  const stop = watchHealth(c as unknown as Redis, {
    interval,
    graceMs,
    now: () => t,
    setInterval: (fn) => {
      tick = fn;
      return {};
    },
    clearInterval: () => {
      tick = undefined;
    },
    onStale: (ms) => stale.push(ms),
  });
  const advance = async (ms: number): Promise<void> => {
    t += ms;
    tick?.();
    await Promise.resolve();
    await Promise.resolve();
  };
  return { c, stale, stop, advance, ticking: () => tick !== undefined };
}

describe('watchHealth (health_check_interval)', () => {
  it('an answered PING each interval keeps the connection', async () => {
    const h = harness(25);
    for (let i = 0; i < 4; i++) {
      await h.advance(25_000);
      h.c.answer();
      await Promise.resolve();
    }
    expect(h.c.pings).toBe(4);
    expect(h.c.drops).toBe(0);
    expect(h.stale).toEqual([]);
  });

  it('a PING unanswered for interval + grace drops the connection (ioredis reconnects)', async () => {
    const h = harness(2, 1000);
    await h.advance(2000); // PING sent
    await h.advance(2000); // 2 s waited < 3 s: still waiting (queued behind a BRPOP)
    expect(h.c.drops).toBe(0);
    await h.advance(2000); // 4 s ≥ 3 s
    expect(h.c.drops).toBe(1);
    expect(h.stale).toEqual([4000]);
    // The new connection starts afresh.
    h.c.emit('ready');
    await h.advance(2000);
    expect(h.c.pings).toBe(2);
    expect(h.c.drops).toBe(1);
  });

  it('no PING while not ready; 0 disables the checks; stop() ends them', async () => {
    const h = harness(1);
    h.c.status = 'reconnecting';
    await h.advance(1000);
    expect(h.c.pings).toBe(0);
    h.stop();
    expect(h.ticking()).toBe(false);
    expect(harness(0).ticking()).toBe(false);
  });
});
