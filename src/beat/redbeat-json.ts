import { pyJsonDumps, pyJsonLoads } from '../serialization/python-json';
import { PyFloat, type PyValue } from '../serialization/py-values';
import { CrontabSchedule, IntervalSchedule, type BeatSchedule } from './schedules';
import type { CronSpec } from './crontab-parser';

/**
 * celery-redbeat's JSON (`redbeat/decoder.py`, `RedBeatJSONEncoder`/`RedBeatJSONDecoder`): the
 * `definition` and `meta` fields of a `redbeat:<name>` hash. Written as Python's `json.dumps`
 * writes them, so Python RedBeat and celery-wire can take turns on the same keys.
 */

export interface RedBeatDefinition {
  readonly name: string;
  readonly task: string;
  readonly args: readonly PyValue[] | null;
  readonly kwargs: Readonly<Record<string, PyValue>> | null;
  readonly options: Readonly<Record<string, PyValue>> | null;
  readonly schedule: BeatSchedule;
  readonly enabled: boolean;
}

export interface RedBeatMeta {
  readonly lastRunAt: Date | null;
  readonly totalRunCount?: number;
}

type Obj = Record<string, PyValue>;
const isObj = (v: PyValue | undefined): v is Obj =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  Object.getPrototypeOf(v) === Object.prototype;

/** A UTC datetime as RedBeat writes `app.now()` (ZoneInfo('UTC') → `"timezone": "UTC"`). */
function encodeDatetime(d: Date): Obj {
  return {
    __type__: 'datetime',
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    microsecond: d.getUTCMilliseconds() * 1000,
    timezone: 'UTC',
  };
}

function decodeDatetime(o: Obj): Date {
  const n = (k: string): number => Number(o[k] ?? 0);
  const utc = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'));
  const ms = utc + Math.floor(n('microsecond') / 1000);
  const zone = o.timezone;
  // A numeric zone is the UTC offset in seconds; a name is an IANA zone (UTC is what RedBeat
  // writes for Celery's default `timezone`).
  if (typeof zone === 'number' || zone instanceof PyFloat)
    return new Date(ms - Number(zone) * 1000);
  if (zone === undefined || zone === 'UTC' || zone === null) return new Date(ms);
  return typeof zone === 'string' ? zonedToUtc(ms, zone) : new Date(ms);
}

/** Interpret wall-clock `ms` (as if UTC) in an IANA zone. */
function zonedToUtc(wallMs: number, timeZone: string): Date {
  const offset = (at: number): number => {
    const f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    const p: Record<string, number> = {};
    for (const part of f.formatToParts(new Date(at))) p[part.type] = Number(part.value);
    const asUtc = Date.UTC(
      p.year ?? 0,
      (p.month ?? 1) - 1,
      p.day ?? 1,
      p.hour ?? 0,
      p.minute ?? 0,
      p.second ?? 0,
    );
    return asUtc - Math.floor(at / 1000) * 1000;
  };
  const guess = wallMs - offset(wallMs);
  return new Date(wallMs - offset(guess));
}

function encodeSchedule(s: BeatSchedule): Obj {
  if (s instanceof IntervalSchedule) {
    return { __type__: 'interval', every: new PyFloat(s.seconds), relative: s.relative };
  }
  if (s instanceof CrontabSchedule) {
    const spec = (v: CronSpec): PyValue =>
      typeof v === 'number' || typeof v === 'string' ? v : [...v].sort((a, b) => a - b);
    return {
      __type__: 'crontab',
      minute: spec(s.spec.minute),
      hour: spec(s.spec.hour),
      day_of_week: spec(s.spec.dayOfWeek),
      day_of_month: spec(s.spec.dayOfMonth),
      month_of_year: spec(s.spec.monthOfYear),
    };
  }
  // celery-redbeat 2.4.2's `RedBeatJSONEncoder.default` knows interval, crontab and rrule only; a
  // `solar` entry fails in `json.dumps` there too, so Python RedBeat could not read one back.
  throw new TypeError(
    `Object of type ${s.kind} is not JSON serializable: celery-redbeat stores interval and crontab schedules only`,
  );
}

function decodeSchedule(o: PyValue | undefined, timeZone: string): BeatSchedule {
  if (!isObj(o)) throw new TypeError('RedBeat definition has no schedule');
  if (o.__type__ === 'interval') return new IntervalSchedule(Number(o.every), o.relative === true);
  if (o.__type__ === 'crontab') {
    const spec = (v: PyValue | undefined): CronSpec =>
      typeof v === 'number' || typeof v === 'string' ? v : Array.isArray(v) ? v.map(Number) : '*';
    return new CrontabSchedule(
      {
        minute: spec(o.minute),
        hour: spec(o.hour),
        dayOfWeek: spec(o.day_of_week),
        dayOfMonth: spec(o.day_of_month),
        monthOfYear: spec(o.month_of_year),
      },
      timeZone,
    );
  }
  throw new TypeError(
    `RedBeat schedule type ${JSON.stringify(pyJsonDumps(o.__type__ ?? null))} is not supported here`,
  );
}

export function encodeDefinition(d: RedBeatDefinition): string {
  return pyJsonDumps({
    name: d.name,
    task: d.task,
    args: d.args,
    kwargs: d.kwargs,
    options: d.options,
    schedule: encodeSchedule(d.schedule),
    enabled: d.enabled,
  });
}

export function decodeDefinition(text: string, timeZone = 'UTC'): RedBeatDefinition {
  const o = pyJsonLoads(text);
  if (!isObj(o) || typeof o.task !== 'string') throw new TypeError('not a RedBeat definition');
  return {
    name: typeof o.name === 'string' ? o.name : pyJsonDumps(o.name ?? null),
    task: o.task,
    args: Array.isArray(o.args) ? o.args : null,
    kwargs: isObj(o.kwargs) ? o.kwargs : null,
    options: isObj(o.options) ? o.options : null,
    schedule: decodeSchedule(o.schedule, timeZone),
    enabled: o.enabled !== false,
  };
}

export function encodeMeta(m: RedBeatMeta): string {
  const o: Obj = { last_run_at: m.lastRunAt ? encodeDatetime(m.lastRunAt) : null };
  if (m.totalRunCount !== undefined) o.total_run_count = m.totalRunCount;
  return pyJsonDumps(o);
}

export function decodeMeta(text: string | null): RedBeatMeta {
  if (!text) return { lastRunAt: null };
  const o = pyJsonLoads(text);
  if (!isObj(o)) return { lastRunAt: null };
  const last = o.last_run_at;
  const count = o.total_run_count;
  return {
    lastRunAt: isObj(last) ? decodeDatetime(last) : null,
    ...(typeof count === 'number' ? { totalRunCount: count } : {}),
  };
}

/** `to_timestamp(due_at)`: the zset score, whole seconds since the epoch. */
export const toTimestamp = (d: Date): number => Math.floor(d.getTime() / 1000);
