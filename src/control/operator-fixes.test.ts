import { PyFloat, type PyValue } from '../serialization/py-values';
import { controlHandlers, type ControlTarget } from './commands';
import type { ControlHandler } from './pidbox';

/**
 * Replies found by the operator checklist (test/integration/operator-checks.test.ts) where the TS
 * worker answered differently from a Celery 5.7 worker; each expectation is the Python reply.
 */
interface Fake {
  events: boolean;
  setEventsCalls: boolean[];
  limits: { hard: number | null; soft: number | null; shown: unknown }[];
  rates: (string | number | null)[];
  autoscaled: [number | null, number | null][];
}

function worker(events: boolean): [Map<string, ControlHandler>, Fake] {
  const f: Fake = { events, setEventsCalls: [], limits: [], rates: [], autoscaled: [] };
  const t = {
    hostname: 'w@h',
    eventsEnabled: () => f.events,
    setEvents: (on: boolean) => {
      f.events = on;
      f.setEventsCalls.push(on);
    },
    setTimeLimit: (name: string, hard: number | null, soft: number | null, shown?: unknown) => {
      f.limits.push({ hard, soft, shown });
      return name === 'known';
    },
    setRateLimit: (name: string, rate: string | number | null) => {
      f.rates.push(rate);
      return name === 'known';
    },
    autoscaling: () => true,
    poolControl: () => ({
      autoscale: (max: number | null, min: number | null) => {
        f.autoscaled.push([max, min]);
        return Promise.resolve([max ?? 3, min ?? 1] as const);
      },
    }),
  } as unknown as ControlTarget;
  return [controlHandlers(t), f];
}

const call = async (
  h: Map<string, ControlHandler>,
  name: string,
  args: Record<string, PyValue> = {},
): Promise<PyValue> => {
  const fn = h.get(name);
  if (!fn) throw new Error(`no handler ${name}`);
  return fn(args);
};

describe('enable_events / disable_events follow the dispatcher groups', () => {
  it('a -E worker (groups=None) answers "already" to both and keeps sending', async () => {
    const [h, f] = worker(true);
    expect(await call(h, 'enable_events')).toEqual({ ok: 'task events already enabled' });
    expect(await call(h, 'disable_events')).toEqual({ ok: 'task events already disabled' });
    expect(f.setEventsCalls).toEqual([]);
    expect(f.events).toBe(true);
  });

  it('a worker without -E (groups=[worker]) adds and drops the task group', async () => {
    const [h, f] = worker(false);
    expect(await call(h, 'disable_events')).toEqual({ ok: 'task events already disabled' });
    expect(await call(h, 'enable_events')).toEqual({ ok: 'task events enabled' });
    expect(await call(h, 'enable_events')).toEqual({ ok: 'task events already enabled' });
    expect(await call(h, 'disable_events')).toEqual({ ok: 'task events disabled' });
    expect(f.setEventsCalls).toEqual([true, false]);
  });
});

describe('rate_limit checks the rate first, as celery.utils.time.rate', () => {
  it.each([
    [
      'bogus',
      `Invalid rate limit string: ValueError("could not convert string to float: 'bogus'")`,
    ],
    ['/m', `Invalid rate limit string: ValueError("could not convert string to float: ''")`],
  ])('%j → %s (even for an unknown task)', async (rate, error) => {
    const [h, f] = worker(true);
    expect(await call(h, 'rate_limit', { task_name: 'nope', rate_limit: rate })).toEqual({ error });
    expect(f.rates).toEqual([]);
  });

  it('an unknown unit raises KeyError (not caught by rate_limit)', async () => {
    const [h] = worker(true);
    await expect(
      call(h, 'rate_limit', { task_name: 'known', rate_limit: '10/min' }),
    ).rejects.toThrow('min');
  });

  it.each([' 5 /m', '1_0/s', '10/h', '2.5'])('%j is valid', async (rate) => {
    const [h] = worker(true);
    expect(await call(h, 'rate_limit', { task_name: 'known', rate_limit: rate })).toEqual({
      ok: 'new rate limit set successfully',
    });
  });
});

describe('time_limit', () => {
  it('keeps the values as sent for registered, and 0 means no limit in force', async () => {
    const [h, f] = worker(true);
    const soft = new PyFloat(0);
    const hard = new PyFloat(1);
    expect(await call(h, 'time_limit', { task_name: 'known', soft, hard })).toEqual({
      ok: 'time limits set successfully',
    });
    expect(f.limits).toEqual([{ hard: 1, soft: null, shown: { hard, soft } }]);
  });
});

describe('autoscale with one bound', () => {
  it('leaves the absent min as it is (Autoscaler.update(max, None))', async () => {
    const [h, f] = worker(true);
    expect(await call(h, 'autoscale', { max: 2 })).toEqual({ ok: 'autoscale now max=2 min=1' });
    expect(f.autoscaled).toEqual([[2, null]]);
  });
});
