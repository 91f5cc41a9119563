import { CeleryError } from '../errors/errors';

/** A crontab field that does not parse (`celery/schedules.py`, `ParseException`). */
export class CrontabParseError extends CeleryError {
  constructor(message: string, options?: ErrorOptions) {
    super('E_CONFIG', message, options);
    this.name = 'ParseException';
  }
}

const WEEKDAYS: Readonly<Record<string, number>> = {
  sun: 0,
  mon: 1,
  tue: 2,
  wed: 3,
  thu: 4,
  fri: 5,
  sat: 6,
};
const MONTHS: Readonly<Record<string, number>> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  oct: 10,
  nov: 11,
  dec: 12,
};

/** A crontab field as Celery accepts it: a number, a spec string, or a collection of numbers. */
export type CronSpec = number | string | readonly number[] | ReadonlySet<number>;

/**
 * Celery's `crontab_parser(max_, min_).parse(spec)` (`celery/schedules.py`): comma-separated
 * parts, each `*`, `*\/n`, `a-b`, `a-b/n` (a range wraps around when b < a) or a single value;
 * values are numbers, month names (`jan`) or weekday names (`mon`, 0 = Sunday).
 */
export function parseCronField(spec: CronSpec, max: number, min = 0): ReadonlySet<number> {
  let result: Set<number>;
  if (typeof spec === 'number') result = new Set([spec]);
  else if (typeof spec === 'string') result = parseSpec(spec, max, min);
  else result = new Set(spec);
  for (const n of result) {
    if (!Number.isInteger(n) || n >= max + min || n < min) {
      throw new CrontabParseError(
        `Invalid crontab pattern. Valid range is {${String(min)}}-{${String(max - 1 + min)}}. '${String(n)}' was found.`,
      );
    }
  }
  return result;
}

function parseSpec(spec: string, max: number, min: number): Set<number> {
  const acc = new Set<number>();
  for (const part of spec.split(',')) {
    if (!part) throw new CrontabParseError('empty part');
    for (const n of parsePart(part.trim(), max, min)) acc.add(n);
  }
  return acc;
}

function parsePart(part: string, max: number, min: number): number[] {
  const star = (): number[] => Array.from({ length: max }, (_, i) => i + min);
  const every = (values: number[], step: string | undefined): number[] => {
    if (!step) throw new CrontabParseError('empty filter');
    const n = Number(step);
    if (!Number.isInteger(n) || n <= 0) throw new CrontabParseError(`invalid step ${step}`);
    return values.filter((_, i) => i % n === 0);
  };
  let m = /^(\w+?)-(\w+)\/(\w+)?$/.exec(part);
  if (m) return every(range(m[1] ?? '', m[2] ?? '', max, min), m[3]);
  m = /^(\w+?)-(\w+)$/.exec(part);
  if (m) return range(m[1] ?? '', m[2] ?? '', max, min);
  m = /^\*\/(\w+)?$/.exec(part);
  if (m) return every(star(), m[1]);
  if (part === '*') return star();
  return [value(part, max, min)];
}

function range(from: string, to: string, max: number, min: number): number[] {
  const a = value(from, max, min);
  const b = value(to, max, min);
  const out: number[] = [];
  if (b < a) {
    for (let i = a; i < min + max; i++) out.push(i);
    for (let i = min; i <= b; i++) out.push(i);
  } else {
    for (let i = a; i <= b; i++) out.push(i);
  }
  return out;
}

function value(s: string, max: number, min: number): number {
  if (s.startsWith('-')) throw new CrontabParseError('negative numbers not supported');
  let i: number;
  if (/^\d+$/.test(s)) i = Number(s);
  else {
    const abbr = s.slice(0, 3).toLowerCase();
    const named = MONTHS[abbr] ?? WEEKDAYS[abbr];
    if (named === undefined) throw new CrontabParseError(`Invalid weekday literal '${s}'.`);
    i = named;
  }
  if (i > min + max - 1)
    throw new CrontabParseError(`Invalid end range: ${String(i)} > ${String(min + max - 1)}.`);
  if (i < min)
    throw new CrontabParseError(`Invalid beginning range: ${String(i)} < ${String(min)}.`);
  return i;
}
