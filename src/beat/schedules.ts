import { parseCronField, type CronSpec } from './crontab-parser';
import { wallTime } from './zoned';

/** Celery's `schedstate`: run now?, and seconds until the schedule should be checked again. */
export interface ScheduleState {
  readonly isDue: boolean;
  readonly nextSeconds: number;
}

/** A periodic schedule (`celery/schedules.py`, `BaseSchedule`). */
export interface BeatSchedule {
  readonly kind: 'interval' | 'crontab' | 'solar';
  /** The instant the first run after `lastRunAt` is due; `null` when there is none. */
  nextRunAfter(lastRunAt: Date): Date | null;
  /** `is_due(last_run_at)` with the clock read by the caller. */
  isDue(lastRunAt: Date, now: Date): ScheduleState;
}

const MINUTE = 60_000;

/** `celery.schedules.schedule(run_every, relative)`: every `seconds`. */
export class IntervalSchedule implements BeatSchedule {
  readonly kind = 'interval';
  constructor(
    readonly seconds: number,
    readonly relative = false,
  ) {
    if (!(seconds > 0)) throw new RangeError(`run_every must be positive, got ${String(seconds)}`);
  }

  nextRunAfter(lastRunAt: Date): Date {
    const end = lastRunAt.getTime() + this.seconds * 1000;
    if (!this.relative) return new Date(end);
    // `delta_resolution`: round down to the unit of the interval (days, hours, minutes), but
    // never to or before the start (celery/utils/time.py, `remaining` with relative=True).
    const unit = this.seconds >= 86_400 ? 86_400_000 : this.seconds >= 3600 ? 3_600_000 : MINUTE;
    const rounded = Math.floor(end / unit) * unit;
    return new Date(rounded > lastRunAt.getTime() ? rounded : end);
  }

  isDue(lastRunAt: Date, now: Date): ScheduleState {
    const remaining = Math.max((this.nextRunAfter(lastRunAt).getTime() - now.getTime()) / 1000, 0);
    return remaining === 0
      ? { isDue: true, nextSeconds: this.seconds }
      : { isDue: false, nextSeconds: remaining };
  }
}

/** The fields of `celery.schedules.crontab`, camelCased; each a number, spec string or set. */
export interface CrontabSpec {
  minute?: CronSpec;
  hour?: CronSpec;
  dayOfWeek?: CronSpec;
  dayOfMonth?: CronSpec;
  monthOfYear?: CronSpec;
}

/**
 * `celery.schedules.crontab`: runs at the wall-clock minutes that match every field, in the
 * schedule's time zone (the app's `timezone`, UTC by default). The original specs are kept
 * because they are what RedBeat stores (`_orig_minute` …).
 */
export class CrontabSchedule implements BeatSchedule {
  readonly kind = 'crontab';
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly daysOfWeek: ReadonlySet<number>;
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly spec: Required<CrontabSpec>;

  constructor(
    spec: CrontabSpec = {},
    readonly timeZone = 'UTC',
  ) {
    this.spec = {
      minute: spec.minute ?? '*',
      hour: spec.hour ?? '*',
      dayOfWeek: spec.dayOfWeek ?? '*',
      dayOfMonth: spec.dayOfMonth ?? '*',
      monthOfYear: spec.monthOfYear ?? '*',
    };
    this.minutes = parseCronField(this.spec.minute, 60);
    this.hours = parseCronField(this.spec.hour, 24);
    // crontab_parser(7): 0 = Sunday … 6 = Saturday.
    this.daysOfWeek = parseCronField(this.spec.dayOfWeek, 7);
    this.daysOfMonth = parseCronField(this.spec.dayOfMonth, 31, 1);
    this.months = parseCronField(this.spec.monthOfYear, 12, 1);
    wallTime(new Date(0), timeZone); // an unknown zone fails here, at definition time
  }

  nextRunAfter(lastRunAt: Date): Date | null {
    // Walk forward from the minute after last_run_at (seconds dropped, as Celery's ffwd sets
    // second=0), skipping whole days and hours that cannot match. `null` when nothing matches
    // within 5 years (e.g. 30 February).
    let t = Math.floor(lastRunAt.getTime() / MINUTE) * MINUTE + MINUTE;
    const limit = t + 5 * 366 * 24 * 60 * MINUTE;
    while (t < limit) {
      const w = wallTime(new Date(t), this.timeZone);
      if (
        !this.months.has(w.month) ||
        !this.daysOfMonth.has(w.day) ||
        !this.daysOfWeek.has(w.weekday)
      ) {
        t += (24 * 60 - (w.hour * 60 + w.minute)) * MINUTE;
        continue;
      }
      if (!this.hours.has(w.hour)) {
        t += (60 - w.minute) * MINUTE;
        continue;
      }
      if (!this.minutes.has(w.minute)) {
        t += MINUTE;
        continue;
      }
      return new Date(t);
    }
    return null;
  }

  isDue(lastRunAt: Date, now: Date): ScheduleState {
    const next = this.nextRunAfter(lastRunAt);
    if (next === null) return { isDue: false, nextSeconds: Infinity };
    const rem = Math.max((next.getTime() - now.getTime()) / 1000, 0);
    if (rem > 0) return { isDue: false, nextSeconds: rem };
    // Due: the next check is the run after now (`remaining_estimate(self.now())`).
    const after = this.nextRunAfter(now);
    return {
      isDue: true,
      nextSeconds:
        after === null ? Infinity : Math.max((after.getTime() - now.getTime()) / 1000, 0),
    };
  }
}

/** `schedule(run_every)` / `timedelta` entries: seconds, relative as Celery's `relative` flag. */
export const every = (seconds: number, opts: { relative?: boolean } = {}): IntervalSchedule =>
  new IntervalSchedule(seconds, opts.relative ?? false);

/** `crontab(minute=…, hour=…, …)`. */
export const crontab = (
  spec: CrontabSpec = {},
  opts: { timeZone?: string } = {},
): CrontabSchedule => new CrontabSchedule(spec, opts.timeZone ?? 'UTC');
