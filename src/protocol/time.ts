import { InvalidTaskError } from '../errors/errors';
import { PyDateTime } from '../serialization/py-values';

/**
 * Instants are handled as integral microseconds since the Unix epoch (UTC): Python datetimes
 * carry µs, a JavaScript `Date` only ms. 2^53 µs is year 2255, so a `number` is exact.
 */
export type EpochMicros = number;

/** A clock reading: a `Date` (ms) or a `PyDateTime` (µs, naive read as UTC). */
export type Instant = Date | PyDateTime;

const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2})(?::?(\d{2})(?::?(\d{2})(?:[.,](\d{1,9}))?)?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2}(?::?\d{2}(?:\.\d{1,6})?)?)?)?$/;

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/**
 * Lenient ISO-8601 parser for inbound `eta`/`expires` (what Celery ≥5.3.5 accepts through
 * `dateutil.parser.isoparse`): `T` or space, optional seconds and 1–9 fraction digits (beyond µs
 * truncated, as isoparse does), `Z` or `±HH[:MM[:SS]]` offsets; naive values are UTC
 * (`celery/utils/time.py`, `maybe_make_aware`). Throws {@link InvalidTaskError} on garbage.
 */
export function parseIsoMicros(text: string, path = ''): EpochMicros {
  const m = ISO_RE.exec(text.trim());
  if (!m)
    throw new InvalidTaskError(`invalid ISO-8601 datetime: ${JSON.stringify(text)}`, { path });
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', off] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  const ms = Date.UTC(year, month - 1, day, hour === 24 ? 0 : hour, minute, second);
  const check = new Date(ms);
  if (
    Number.isNaN(ms) ||
    check.getUTCDate() !== day ||
    check.getUTCMonth() !== month - 1 ||
    hour > 24 ||
    (hour === 24 && (minute !== 0 || second !== 0)) ||
    minute > 59 ||
    second > 59
  ) {
    throw new InvalidTaskError(`datetime out of range: ${JSON.stringify(text)}`, { path });
  }
  let micros = ms * 1000 + Number(frac.padEnd(6, '0').slice(0, 6)) + (hour === 24 ? 86_400e6 : 0);
  if (off !== undefined && off !== 'Z' && off !== 'z') {
    const sign = off.startsWith('-') ? -1 : 1;
    const digits = off.slice(1).replace(/:/g, '');
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2, 4) || '0');
    const os = Number(digits.slice(4) || '0');
    if (oh > 23 || om > 59) {
      throw new InvalidTaskError(`invalid UTC offset: ${JSON.stringify(text)}`, { path });
    }
    micros -= sign * Math.round((oh * 3600 + om * 60 + os) * 1e6);
  }
  return micros;
}

/** Microseconds since the epoch of an injected clock reading. */
export function toEpochMicros(t: Instant): EpochMicros {
  if (t instanceof Date) {
    const ms = t.getTime();
    if (Number.isNaN(ms)) throw new RangeError('invalid Date');
    return ms * 1000;
  }
  return parseIsoMicros(t.iso);
}

/**
 * Python `datetime.isoformat()` of an aware UTC datetime: `YYYY-MM-DDTHH:MM:SS.ffffff+00:00`,
 * the fraction omitted when µs is 0 (`celery/app/amqp.py`, `AMQP.as_task_v2`: `eta.isoformat()`).
 * `naive: true` drops the offset (what a naive `datetime.utcnow()`-based value prints).
 */
export function isoformatMicros(micros: EpochMicros, opts: { naive?: boolean } = {}): string {
  const us = ((micros % 1e6) + 1e6) % 1e6;
  const d = new Date((micros - us) / 1000);
  const year = d.getUTCFullYear();
  if (year < 1 || year > 9999) throw new RangeError(`year ${String(year)} is out of range`);
  const base =
    `${pad(year, 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  const frac = us === 0 ? '' : `.${pad(us, 6)}`;
  return `${base}${frac}${opts.naive === true ? '' : '+00:00'}`;
}

/**
 * `timedelta(seconds=s)` in µs: Python rounds to the nearest microsecond, ties to even.
 * (`celery/utils/time.py`, `add_seconds_to_datetime`.)
 */
export function secondsToMicros(seconds: number): number {
  const x = seconds * 1e6;
  const r = Math.round(x);
  // Math.round rounds .5 up; Python's timedelta rounds half to even.
  if (Math.abs(x % 1) === 0.5 && r % 2 !== 0) return r - 1;
  return r;
}

/** `now + seconds` as an aware UTC isoformat string, as `as_task_v2` computes eta from countdown. */
export function isoAfter(now: Instant, seconds: number): string {
  return isoformatMicros(toEpochMicros(now) + secondsToMicros(seconds));
}

/** `PyDateTime` for an instant, aware UTC. */
export function pyDateTimeOf(micros: EpochMicros): PyDateTime {
  return new PyDateTime(isoformatMicros(micros));
}

/**
 * Seconds from `now` until an ISO datetime (naive = UTC), as `send_task` computes the AMQP
 * expiration from a datetime/str `expires` (`subtract_datetimes(...).total_seconds()`).
 */
export function secondsUntil(iso: string, now: Instant): number {
  return (parseIsoMicros(iso) - toEpochMicros(now)) / 1e6;
}
