import { AMPCONST, AMPSECUL, DELAUNAY, MULTARG } from './nutation-data';
import { VN_EARTH, VX_EARTH } from './vsop87-earth';

/**
 * The Sun as PyEphem 4.2.1 computes it for an `Observer` (`ephem.Sun().compute(observer)`):
 * libastro's `sun_cir` → `cir_pos` pipeline, ported operation for operation so that Celery's
 * `solar` schedule (which is ephem) and ours land on the same instants. Sources, all in
 * pyephem's `libastro/` (MIT: © Elwood Downey, © Brandon Rhodes): `sun.c, sunpos`,
 * `vsop87.c, vsop87`, `eq_ecl.c, ecleq_aux`, `obliq.c`, `nutation.c, nutation/nut_eq`,
 * `aberration.c, ab_eq` (Montenbruck), `misc.c, now_lst`, `utc_gst.c`, `parallax.c, ta_par`,
 * `auxil.c, mm_mjed`, `deltat.c`. Dates are ephem's: days since 1899-12-31 12:00 UT (`mjd`).
 */

const PI = Math.PI;
const TWO_PI = 2 * PI;
/** `J2000` in ephem days. */
export const J2000 = 2451545.0 - 2415020.0;
const SIDRATE = 0.9972695677;
const MAU = 1.4959787e11;
const ERAD = 6.37816e6;

/** libastro `range`: `0 <= v < r`. */
export const range = (v: number, r: number): number => v - r * Math.floor(v / r);
const degrad = (x: number): number => (x * PI) / 180;
const raddeg = (x: number): number => (x * 180) / PI;
const hrrad = (x: number): number => degrad(x * 15);
const radhr = (x: number): number => raddeg(x) / 15;

function sphcart(l: number, b: number, r: number): [number, number, number] {
  const rcb = r * Math.cos(b);
  return [rcb * Math.cos(l), rcb * Math.sin(l), r * Math.sin(b)];
}

function cartsph(x: number, y: number, z: number): [number, number, number] {
  const rho = x * x + y * y;
  if (rho > 0) {
    return [range(Math.atan2(y, x), TWO_PI), Math.atan2(z, Math.sqrt(rho)), Math.sqrt(rho + z * z)];
  }
  return [0, z === 0 ? 0 : z > 0 ? PI / 2 : -PI / 2, Math.abs(z)];
}

/** `vsop87(mj, SUN, 0.0, ret)`: the Earth, heliocentric, mean ecliptic of date, all terms. */
function vsop87Earth(mj: number): [number, number, number] {
  const t = [1, (mj - J2000) / 365250];
  for (let i = 2; i <= 5; i++) t[i] = (t[i - 1] ?? 0) * (t[1] ?? 0);
  const t1 = t[1] ?? 0;
  const ret = [0, 0, 0];
  for (let coo = 0; coo < 3; coo++) {
    for (let alpha = 0; (VN_EARTH[alpha + 1]?.[coo] ?? 0) !== 0; alpha++) {
      let term = 0;
      const end = VN_EARTH[alpha + 1]?.[coo] ?? 0;
      for (let i = VN_EARTH[alpha]?.[coo] ?? 0; i < end; i++) {
        const [a, b, c] = VX_EARTH[i] ?? [0, 0, 0];
        if (a < 0) continue; // `a < p` with p = 0 at full precision
        term += a * Math.cos(b + c * t1);
      }
      ret[coo] = (ret[coo] ?? 0) + (t[alpha] ?? 0) * term;
    }
  }
  const r = (ret[2] ?? 0) / 1e8;
  let l = (ret[0] ?? 0) / 1e8;
  let b = (ret[1] ?? 0) / 1e8;
  l -= Math.floor(l / TWO_PI) * TWO_PI;
  // Reduction from the VSOP87 dynamical equinox to FK5 (prec < 5e-7).
  const L1 = l - degrad(13.97 * t1 - 0.031 * (t[2] ?? 0));
  const c1 = Math.cos(L1);
  const s1 = Math.sin(L1);
  l += degrad(-0.09033 + 0.03916 * (c1 + s1) * Math.tan(b)) / 3600.0;
  b += degrad(0.03916 * (c1 - s1)) / 3600.0;
  return [l, b, r];
}

/** `sunpos`: the Sun's true geocentric ecliptic longitude, distance (AU) and latitude. */
function sunpos(mj: number): { lsn: number; rsn: number; bsn: number } {
  const [l, b, r] = vsop87Earth(mj);
  return { lsn: range(l - PI, TWO_PI), rsn: r, bsn: -b };
}

/** libastro keeps the last answer of `nutation` (a pure function of `mj`); so do we. */
const lastNutation = { mj: NaN, value: [0, 0] as [number, number] };

/** `obliquity`: the mean obliquity of the ecliptic (IAU). */
function obliquity(mj: number): number {
  const t = (mj - J2000) / 36525;
  return degrad(23.4392911 + (t * (-46.815 + t * (-0.00059 + t * 0.001813))) / 3600.0);
}

/** `nutation`: [deps, dpsi] in radians (IAU 1980, all 106 terms). */
function nutation(mj: number): [number, number] {
  if (mj === lastNutation.mj) return lastNutation.value;
  lastNutation.value = nutationSeries(mj);
  lastNutation.mj = mj;
  return lastNutation.value;
}

function nutationSeries(mj: number): [number, number] {
  const T = (mj - J2000) / 36525;
  const T2 = T * T;
  const T3 = T2 * T;
  const T10 = T / 10;
  const del = DELAUNAY.map(([a, b, c, d]) => {
    let x = a + b * T + c * T2 + d * T3;
    x /= 3600 * 360;
    x -= Math.floor(x);
    return x * 2 * PI;
  });
  let dpsi = 0;
  let deps = 0;
  let isecul = 0;
  for (let i = 0; i < 106; i++) {
    const [c0, c1] = AMPCONST[i] ?? [0, 0];
    let ampsin: number;
    let ampcos: number;
    if (c0 !== 0 || c1 !== 0) {
      ampsin = c0;
      ampcos = c1;
    } else {
      const s = AMPSECUL[isecul] ?? [0, 0, 0, 0, 0];
      ampsin = s[1] + s[2] * T10;
      ampcos = s[3] + s[4] * T10;
      ++isecul;
    }
    let arg = 0;
    const m = MULTARG[i] ?? [0, 0, 0, 0, 0];
    for (let j = 0; j < 5; j++) arg += m[j as 0] * (del[j] ?? 0);
    dpsi += ampsin * Math.sin(arg);
    deps += ampcos * Math.cos(arg);
  }
  return [degrad(deps / 3600 / 1e4), degrad(dpsi / 3600 / 1e4)];
}

/** `ecl_eq`: ecliptic (lat, long) of date → equatorial (ra, dec), mean obliquity. */
function eclEq(mj: number, lt: number, lg: number): [number, number] {
  const eps = obliquity(mj);
  const seps = Math.sin(eps);
  const ceps = Math.cos(eps);
  const sy = Math.sin(lt);
  let cy = Math.cos(lt);
  if (Math.abs(cy) < 1e-20) cy = 1e-20;
  const ty = sy / cy;
  const cx = Math.cos(lg);
  const sx = Math.sin(lg);
  const sq = Math.min(1, Math.max(-1, sy * ceps - cy * seps * sx * -1));
  let p = Math.atan((sx * ceps + ty * seps * -1) / cx);
  if (cx < 0) p += PI;
  return [range(p, TWO_PI), Math.asin(sq)];
}

/** `nut_eq`: correct (ra, dec) for nutation. */
function nutEq(mj: number, ra: number, dec: number): [number, number] {
  const epsilon = obliquity(mj);
  const [deps, dpsi] = nutation(mj);
  const se = Math.sin(epsilon);
  const ce = Math.cos(epsilon);
  const sp = Math.sin(dpsi);
  const cp = Math.cos(dpsi);
  const sede = Math.sin(epsilon + deps);
  const cede = Math.cos(epsilon + deps);
  const [xo, yo, zo] = sphcart(ra, dec, 1.0);
  const x = cp * xo + -sp * ce * yo + -sp * se * zo;
  const y = cede * sp * xo + (cede * cp * ce + sede * se) * yo + (cede * cp * se - sede * ce) * zo;
  const z = sede * sp * xo + (sede * cp * ce - cede * se) * yo + (sede * cp * se + cede * ce) * zo;
  const [r2, d2] = cartsph(x, y, z);
  return [r2 < 0 ? r2 + TWO_PI : r2, d2];
}

/** `ab_eq` (Montenbruck's, the one libastro compiles): annual aberration. */
function abEq(mj: number, ra: number, dec: number): [number, number] {
  const [x, y, z] = sphcart(ra, dec, 1.0);
  const L = TWO_PI * (0.27908 + (100.00214 * (mj - J2000)) / 36525.0);
  const cL = Math.cos(L);
  const [r2, d2] = cartsph(x + -0.994e-4 * Math.sin(L), y + 0.912e-4 * cL, z + 0.395e-4 * cL);
  return [r2, d2];
}

/** `deltat`: TT − UT in seconds; ephem's cubic past its table's end (2018). */
export function deltaT(mj: number): number {
  const year = mjdYear(mj);
  if (year > 2018 + 100) {
    const B = 0.01 * (year - 1820);
    return 32 * B * B - 20;
  }
  if (year > 2018) {
    // dt[2018] = 6897 and dt[2008] = 6546 hundredths of a second (deltat.c, `dt[]`).
    const a = 0.01 * 6897;
    const b = 0.001 * (6897 - 6546);
    const B = 0.01 * (2018 + 100 - 1820);
    const m0 = 32 * B * B - 20;
    const m1 = 0.64 * B;
    const d = 2.0e-6 * (50.0 * (m1 + b) - m0 + a);
    const c = 1.0e-4 * (m0 - a - 100.0 * b - 1.0e6 * d);
    const p = year - 2018;
    return a + p * (b + p * (c + p * d));
  }
  // Before 2019 ephem interpolates its table; a schedule's dates are not there. Espenak–Meeus
  // (2005–2050) is within a second of it, which moves the Sun by < 0.05″ (no visible change).
  const t = year - 2000;
  return 62.92 + 0.32217 * t + 0.005589 * t * t;
}

/** `cal_mjd`: a Gregorian calendar date (day may be fractional) → ephem days. */
export function calMjd(mn: number, dy: number, yr: number): number {
  let m = mn;
  let y = yr < 0 ? yr + 1 : yr;
  if (mn < 3) {
    m += 12;
    y -= 1;
  }
  const a = Math.trunc(y / 100);
  const b = 2 - a + Math.trunc(a / 4);
  const c = Math.trunc(365.25 * y) - 694025;
  const d = Math.trunc(30.6001 * (m + 1));
  return b + c + d + dy - 0.5;
}

/** `mjd_year`: ephem days → decimal year. */
function mjdYear(mj: number): number {
  const y = new Date(Math.round((mj - 25567.5) * 86_400_000)).getUTCFullYear();
  const e0 = calMjd(1, 1.0, y);
  const e1 = calMjd(1, 1.0, y + 1);
  return y + (mj - e0) / (e1 - e0);
}

/** `now_lst`: local apparent sidereal time, hours (`utc_gst` + longitude + eq. of equinoxes). */
function nowLst(mjd: number, lng: number): number {
  const day = Math.floor(mjd - 0.5) + 0.5;
  const utc = (mjd - day) * 24.0;
  const T = (Math.trunc(day - 0.5) + 0.5 - J2000) / 36525.0;
  const t0 = range((24110.54841 + (8640184.812866 + (0.093104 - 6.2e-6 * T) * T) * T) / 3600, 24);
  let lst = range((1.0 / SIDRATE) * utc + t0, 24.0);
  lst += radhr(lng);
  const eps = obliquity(mjd);
  const [deps, dpsi] = nutation(mjd);
  lst += radhr(dpsi * Math.cos(eps + deps));
  return range(lst, 24.0);
}

/** `ta_par`: topocentric hour angle, declination and distance (Earth radii). */
function taPar(
  tha: number,
  tdec: number,
  phi: number,
  ht: number,
  rho: number,
): [number, number, number] {
  const e2 = (2 - 1 / 298.257) / 298.257;
  const cphi = Math.cos(phi);
  const sphi = Math.sin(phi);
  const robs = 1 / Math.sqrt(1 - e2 * sphi * sphi);
  const xobs = (robs + ht) * cphi;
  const zobs = (robs * (1 - e2) + ht) * sphi;
  const [x, y, z] = sphcart(-tha, tdec, rho);
  const [aha, adec, r] = cartsph(x - xobs, y, z - zobs);
  return [range(-aha, TWO_PI), adec, r];
}

/** What ephem's `Sun` exposes after `compute(observer)`, in radians. */
export interface SunPlace {
  /** `sun.ha`: topocentric apparent hour angle. */
  readonly ha: number;
  /** `sun.dec`: topocentric apparent declination. */
  readonly dec: number;
  /** `sun.g_ra`: geocentric apparent right ascension. */
  readonly gRa: number;
  /** `sun.radius`: the apparent radius (`s_size` is a C float). */
  readonly radius: number;
}

/** An `Observer` with Celery's settings: elevation 0, pressure 0 (no refraction). */
export interface Site {
  /** Radians. */
  readonly lat: number;
  readonly lon: number;
}

/** `Observer.sidereal_time()` in radians. */
export const siderealTime = (site: Site, mjd: number): number => hrrad(nowLst(mjd, site.lon));

/** `ephem.Sun().compute(observer)` at ephem date `mjd`. */
export function computeSun(site: Site, mjd: number): SunPlace {
  const mjed = mjd + deltaT(mjd) / 86400.0;
  const { lsn, rsn, bsn } = sunpos(mjed);
  let [ra, dec] = eclEq(mjed, bsn, lsn);
  [ra, dec] = nutEq(mjed, ra, dec);
  [ra, dec] = abEq(mjed, ra, dec);
  const gRa = ra;
  const haIn = hrrad(nowLst(mjd, site.lon)) - ra;
  const [haOut, decOut, rhoTopo] = taPar(haIn, dec, site.lat, 0, (rsn * MAU) / ERAD);
  const ddec = decOut - dec;
  // `cir_pos` hands back the topocentric distance, and `sun_cir` sizes the disc by it.
  const size = Math.fround(raddeg(4.65242e-3 / ((rhoTopo * ERAD) / MAU)) * 3600 * 2);
  return { ha: haOut, dec: dec + ddec, gRa, radius: (size * 2 * PI) / 360 / 60 / 60 / 2 };
}
