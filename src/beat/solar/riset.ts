import { computeSun, siderealTime, type Site } from './ephem-sun';

/**
 * PyEphem 4.2.1's event searches for the Sun (`ephem/__init__.py`, `Observer._find_rise_or_set`,
 * `_compute_transit`, `newton`), ported line for line: the same iterations from the same start,
 * so the instants agree with ephem's to floating-point noise. Dates are ephem days.
 */

const TAU = 6.283185307179586;
const SECOND = 1 / 24 / 60 / 60;
const MINUTE = 1 / 24 / 60;
/** `default_newton_precision`: a tenth of a second. */
const PRECISION = SECOND / 10;
const TINY = Math.PI / 180 / 60 / 60 / 360;
const SLIGHTLY_LESS_THAN_ZERO = -1e-15;
const SLIGHTLY_MORE_THAN_PI = Math.PI + 1e-15;

/** ephem's `CircumpolarError`: the Sun does not cross that horizon in this circuit. */
export class CircumpolarError extends Error {
  constructor(
    readonly kind: 'AlwaysUp' | 'NeverUp',
    message: string,
  ) {
    super(message);
    this.name = `${kind}Error`;
  }
}

/** Python's float `%` (`float_rem`: C's fmod, moved to the sign of the divisor). */
function pymod(a: number, b: number): number {
  const m = a % b;
  if (m !== 0 && b < 0 !== m < 0) return m + b;
  return m;
}
/** C's `fmod` (the sign of the dividend). */
const fmod = (a: number, b: number): number => a % b;

/** `Angle.znorm`: to (-π, π]. */
function znorm(r: number): number {
  if (r <= -Math.PI) return fmod(r + Math.PI, 2 * Math.PI) + Math.PI;
  if (r > Math.PI) return fmod(r - Math.PI, 2 * Math.PI) - Math.PI;
  return r;
}

const plusMinusPi = (a: number): number => pymod(a - Math.PI, TAU) - Math.PI;

/** `_target_hour_angle`. */
function targetHourAngle(lat: number, dec: number, alt: number): number {
  const arg = (Math.sin(alt) - Math.sin(lat) * Math.sin(dec)) / (Math.cos(lat) * Math.cos(dec));
  if (arg < -1.0) return SLIGHTLY_MORE_THAN_PI;
  if (arg > 1.0) return SLIGHTLY_LESS_THAN_ZERO;
  return Math.acos(arg);
}

/**
 * `next_rising` / `next_setting(sun, start, use_center)` for an observer whose `horizon` is
 * `horizon` radians and whose pressure is 0 (Celery's `solar`).
 */
export function nextRiseOrSet(
  site: Site,
  horizonRad: number,
  start: number,
  useCenter: boolean,
  rising: boolean,
): number {
  let date = start;
  let prevHa: number | null = null;
  let absTargetHa = 0;
  for (let i = 0; i < 7; i++) {
    if (Number.isNaN(date)) throw new RangeError('cannot find a next rising or setting');
    const sun = computeSun(site, date);
    let horizon = horizonRad;
    if (!useCenter) horizon -= sun.radius;
    absTargetHa = targetHourAngle(site.lat, sun.dec, horizon);
    const targetHa = rising ? -absTargetHa : absTargetHa;
    const ha = sun.ha;
    let difference = targetHa - ha;
    let bump: number;
    if (prevHa === null) {
      difference = pymod(difference, TAU);
      bump = difference / TAU;
      if (Math.abs(bump) < PRECISION) bump += 1;
    } else {
      difference = plusMinusPi(difference);
      bump = difference / TAU;
    }
    if (Math.abs(bump) < PRECISION) break;
    date += bump;
    prevHa = ha;
  }
  if (absTargetHa === SLIGHTLY_MORE_THAN_PI)
    throw new CircumpolarError('AlwaysUp', `'Sun' is above the horizon at ${String(date)}`);
  if (absTargetHa === SLIGHTLY_LESS_THAN_ZERO)
    throw new CircumpolarError('NeverUp', `'Sun' is below the horizon at ${String(date)}`);
  return date;
}

/** `newton(f, x0, x1)`: the secant search ephem uses for transits. */
function newton(f: (x: number) => number, x0: number, x1: number): number {
  let f0 = f(x0);
  let f1 = f(x1);
  while (f1 !== 0 && Math.abs(x1 - x0) > PRECISION && f1 !== f0) {
    [x0, x1] = [x1, x1 + (x1 - x0) / (f0 / f1 - 1)];
    [f0, f1] = [f1, f(x1)];
  }
  return x1;
}

/** `next_transit` (`offset` 0) / `next_antitransit` (`offset` π) of the Sun after `start`. */
export function nextTransit(site: Site, start: number, offset: number): number {
  const f = (d: number): number => znorm(offset - siderealTime(site, d) + computeSun(site, d).gRa);
  const ha = siderealTime(site, start) - computeSun(site, start).gRa;
  let haToMove = pymod(offset - ha, TAU);
  if (Math.abs(haToMove) < TINY) haToMove = TAU;
  const d = start + haToMove / TAU;
  return newton(f, d, d + MINUTE);
}
