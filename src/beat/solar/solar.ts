import type { BeatSchedule, ScheduleState } from '../schedules';
import { calMjd, type Site } from './ephem-sun';
import { CircumpolarError, nextRiseOrSet, nextTransit } from './riset';

/**
 * `celery.schedules.solar(event, lat, lon)` (Celery 5.7, `celery/schedules.py`): runs at a solar
 * event seen from a place, computed as Celery computes it with `ephem` (observer at elevation 0,
 * pressure 0, `horizon` per event, the Sun's centre or upper limb). The ephem searches are
 * ported in `./riset.ts` and `./ephem-sun.ts`, so our instants are ephem's (see docs/beat.md for
 * the measured agreement).
 */
export type SolarEvent =
  | 'dawn_astronomical'
  | 'dawn_nautical'
  | 'dawn_civil'
  | 'sunrise'
  | 'solar_noon'
  | 'sunset'
  | 'dusk_civil'
  | 'dusk_nautical'
  | 'dusk_astronomical';

/** `solar._horizons`, `_methods`, `_use_center_l`. */
const EVENTS: Readonly<
  Record<SolarEvent, { horizon: string; method: 'rising' | 'setting' | 'transit'; center: boolean }>
> = {
  dawn_astronomical: { horizon: '-18', method: 'rising', center: true },
  dawn_nautical: { horizon: '-12', method: 'rising', center: true },
  dawn_civil: { horizon: '-6', method: 'rising', center: true },
  sunrise: { horizon: '-0:34', method: 'rising', center: false },
  solar_noon: { horizon: '0', method: 'transit', center: false },
  sunset: { horizon: '-0:34', method: 'setting', center: false },
  dusk_civil: { horizon: '-6', method: 'setting', center: true },
  dusk_nautical: { horizon: '-12', method: 'setting', center: true },
  dusk_astronomical: { horizon: '-18', method: 'setting', center: true },
};

export const SOLAR_EVENTS = Object.keys(EVENTS).sort() as SolarEvent[];

/** ephem's `scansexa` + `to_angle`: "D:M:S" degrees → radians (`scaled / raddeg(1)`). */
function sexagesimalRadians(text: string): number {
  let d = 0;
  const parts = text.split(':');
  for (let i = parts.length - 1; i >= 0; i--) {
    d /= 60.0;
    const n = Number(parts[i]);
    d = Math.abs(d) * (n < 0 || Object.is(n, -0) ? -1 : 1);
    d += n;
  }
  return d / (180 / Math.PI);
}

/** ephem days (since 1899-12-31 12:00 UT) of a UTC instant, as `ephem.Date(datetime)`. */
export function toEphemDate(at: Date): number {
  let mjd = calMjd(at.getUTCMonth() + 1, at.getUTCDate(), at.getUTCFullYear());
  mjd += at.getUTCHours() / 24;
  mjd += at.getUTCMinutes() / (24 * 60);
  mjd += at.getUTCSeconds() / (24 * 60 * 60);
  mjd += (at.getUTCMilliseconds() * 1000) / (24 * 60 * 60 * 1000000);
  return mjd;
}

/** `ephem.Date.datetime()` (`mjd_six`), truncated to our millisecond clock. */
export function fromEphemDate(mjd: number): Date {
  const d = mjd + 0.5 / 8.64e10 + 0.5;
  const day = Math.floor(d);
  const us = Math.floor((d - day) * 8.64e10);
  return new Date((day - 25568) * 86_400_000 + Math.floor(us / 1000));
}

/** ephem's search cap in `_next_event` (`max_search_days`). */
const MAX_SEARCH_DAYS = 366;

export class SolarSchedule implements BeatSchedule {
  readonly kind = 'solar';
  private readonly site: Site;
  private readonly horizon: number;

  constructor(
    readonly event: SolarEvent,
    readonly lat: number,
    readonly lon: number,
  ) {
    if (!(event in EVENTS)) {
      throw new RangeError(
        `Argument event "${event}" is invalid, must be one of ${SOLAR_EVENTS.join(', ')}.`,
      );
    }
    if (!(lat >= -90 && lat <= 90))
      throw new RangeError(
        `Argument latitude ${String(lat)} is invalid, must be between -90 and 90.`,
      );
    if (!(lon >= -180 && lon <= 180)) {
      throw new RangeError(
        `Argument longitude ${String(lon)} is invalid, must be between -180 and 180.`,
      );
    }
    this.site = { lat: lat / (180 / Math.PI), lon: lon / (180 / Math.PI) };
    this.horizon = sexagesimalRadians(EVENTS[event].horizon);
  }

  /**
   * `_next_event(ephem.Date(last_run_at))`: the first event after `lastRunAt`; where the Sun
   * does not cross the horizon that day, the search goes on from the next anti-transit, for at
   * most 366 days, and then returns where it stopped (the time to look again).
   */
  nextRunAfter(lastRunAt: Date): Date {
    const e = EVENTS[this.event];
    let start = toEphemDate(lastRunAt);
    for (let i = 0; i < MAX_SEARCH_DAYS; i++) {
      try {
        if (e.method === 'transit') return fromEphemDate(nextTransit(this.site, start, 0));
        const rising = e.method === 'rising';
        return fromEphemDate(nextRiseOrSet(this.site, this.horizon, start, e.center, rising));
      } catch (err) {
        if (!(err instanceof CircumpolarError)) throw err;
        start = nextTransit(this.site, start, Math.PI);
      }
    }
    return fromEphemDate(start);
  }

  /** `solar.is_due`: due when the next event is not in the future; then the event after now. */
  isDue(lastRunAt: Date, now: Date): ScheduleState {
    const rem = Math.max((this.nextRunAfter(lastRunAt).getTime() - now.getTime()) / 1000, 0);
    if (rem > 0) return { isDue: false, nextSeconds: rem };
    return {
      isDue: true,
      nextSeconds: Math.max((this.nextRunAfter(now).getTime() - now.getTime()) / 1000, 0),
    };
  }
}

/** `solar(event, lat, lon)`. */
export const solar = (event: SolarEvent, lat: number, lon: number): SolarSchedule =>
  new SolarSchedule(event, lat, lon);
