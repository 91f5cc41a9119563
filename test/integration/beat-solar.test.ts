import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { SOLAR_EVENTS, SolarSchedule, type SolarEvent } from '../../src/beat/index';

/**
 * `solar(event, lat, lon)` against real Celery 5.7 + ephem 4.2.1 (python-peers/.venv-beat,
 * `peer/solar_peer.py`): for every event, nine places from the equator to Svalbard (polar day
 * and night included) and six dates, Celery's `remaining_estimate(last_run_at)` and
 * `is_due(last_run_at)` with a fixed `nowfun`, next to ours. Tolerance: 1 ms — ephem's instants
 * have microseconds, our Date milliseconds (ours is ephem's truncated); nothing else differs.
 */
const root = resolve(__dirname, '..', '..');
const peers = join(root, 'python-peers');
const py = join(peers, '.venv-beat', 'bin', 'python');
const run = promisify(execFile);
const TOLERANCE_S = 0.001 + 1e-9;

interface Case {
  event: SolarEvent;
  lat: number;
  lon: number;
  last_run_at: string;
  now: string;
}
interface PyAnswer {
  remaining: number;
  is_due: boolean;
  next: number;
}

const places: readonly [number, number][] = [
  [40.7128, -74.006], // New York
  [51.5, 0],
  [-33.87, 151.21], // Sydney
  [0, 0],
  [64.15, -21.94], // Reykjavík
  [69.65, 18.96], // Tromsø: polar night and midnight sun
  [78.22, 15.65], // Longyearbyen
  [-54.8, -68.3], // Ushuaia
  [35.68, 139.69], // Tokyo
];
const dates = [
  '2026-01-15T08:00:00.000Z',
  '2026-03-20T00:00:00.000Z',
  '2026-06-21T12:34:56.789Z',
  '2026-09-22T23:59:59.999Z',
  '2026-12-21T05:00:00.000Z',
  '2027-05-01T17:20:00.250Z',
];
// `now` one hour after the last run (mostly not due) and 30 hours after (due: the next check is
// then the event after now).
const nowOffsetsMs = [3_600_000, 30 * 3_600_000];

const cases: Case[] = [];
for (const [lat, lon] of places)
  for (const d of dates)
    for (const off of nowOffsetsMs)
      for (const event of SOLAR_EVENTS)
        cases.push({
          event,
          lat,
          lon,
          last_run_at: d,
          now: new Date(Date.parse(d) + off).toISOString(),
        });

let answers: PyAnswer[];
beforeAll(async () => {
  await run('bash', [join(peers, 'bootstrap-extra.sh'), 'beat']);
  const child = run(py, ['-m', 'peer.solar_peer'], { cwd: peers, maxBuffer: 1 << 26 });
  child.child.stdin?.end(JSON.stringify(cases));
  answers = JSON.parse((await child).stdout) as PyAnswer[];
}, 300_000);

describe('solar schedules equal Celery 5.7 + ephem', () => {
  it('answers every case', () => {
    expect(answers).toHaveLength(cases.length);
    expect(cases.length).toBe(places.length * dates.length * 2 * 9);
  });

  it.each(SOLAR_EVENTS)('%s: remaining_estimate and is_due within 1 ms', (event) => {
    let compared = 0;
    let dueSeen = 0;
    cases.forEach((c, i) => {
      if (c.event !== event) return;
      const want = answers[i];
      if (want === undefined) throw new Error(`no answer for case ${String(i)}`);
      const s = new SolarSchedule(c.event, c.lat, c.lon);
      const last = new Date(c.last_run_at);
      const now = new Date(c.now);
      const remaining = (s.nextRunAfter(last).getTime() - now.getTime()) / 1000;
      const state = s.isDue(last, now);
      const where = `${event} at ${String(c.lat)},${String(c.lon)} last ${c.last_run_at} now ${c.now}`;
      expect({ where, off: Math.abs(remaining - want.remaining) <= TOLERANCE_S }).toEqual({
        where,
        off: true,
      });
      expect({ where, due: state.isDue }).toEqual({ where, due: want.is_due });
      expect({ where, next: Math.abs(state.nextSeconds - want.next) <= TOLERANCE_S }).toEqual({
        where,
        next: true,
      });
      compared++;
      if (want.is_due) dueSeen++;
    });
    expect(compared).toBe(places.length * dates.length * 2);
    // Both branches of is_due are exercised for every event.
    expect(dueSeen).toBeGreaterThan(0);
    expect(dueSeen).toBeLessThan(compared);
  });
});
