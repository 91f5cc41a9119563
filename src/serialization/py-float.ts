/**
 * The repr of a non-integral `x` with at most 6 decimals (`0.25`, `-3.125`), built from integers
 * because `String(x)` runs the general shortest-digits search. If `y = x·10^k` is an integer below
 * 2^52, not a multiple of 10, and `y / 10^k === x`, then that k-decimal text round-trips (both are
 * correctly rounded from the same rational), and no other text of ≤ k decimals does: such texts lie
 * ≥ 10^-k apart while one ulp of `x` is < 10^-k below 2^52·10^-k. So it is THE shortest repr.
 */
function fewDecimals(x: number): string | undefined {
  const abs = Math.abs(x);
  for (let k = 1; k <= 6; k++) {
    const p = 10 ** k; // exact: powers of ten up to 10^22 are doubles
    const y = abs * p;
    if (!Number.isInteger(y)) continue;
    if (y >= 2 ** 52 || y % 10 === 0 || y / p !== abs) return undefined;
    const int = Math.floor(y / p);
    const frac = String(y - int * p).padStart(k, '0');
    return `${x < 0 ? '-' : ''}${String(int)}.${frac}`;
  }
  return undefined;
}

/**
 * Python's `float.__repr__` (shortest round-trip digits, like JavaScript), but laid out the way
 * CPython's `float_repr_style = 'short'` does: scientific notation when the decimal exponent is
 * below -4 or at least 16, a two-digit signed exponent (`1e-07`, `1e+16`), and a trailing `.0`
 * on integral values (`1.0`). Non-finite values are returned as Python's repr (`inf`, `nan`);
 * JSON writers map them to `Infinity`/`NaN` themselves.
 */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // Fast path: in [1e-4, 1e16) both languages print plain decimals with the same shortest digits.
  const abs = Math.abs(x);
  if (abs >= 1e-4 && abs < 1e16) {
    if (Number.isInteger(x)) return `${String(x)}.0`;
    return fewDecimals(x) ?? String(x);
  }
  // toExponential() without an argument yields the shortest digits that round-trip.
  const [mantissa = '', expText = '0'] = x.toExponential().split('e');
  const exp = Number(expText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const sign = negative ? '-' : '';
  if (exp < -4 || exp >= 16) {
    const frac = digits.length > 1 ? `${digits[0] ?? ''}.${digits.slice(1)}` : digits;
    const expAbs = Math.abs(exp).toString().padStart(2, '0');
    return `${sign}${frac}e${exp < 0 ? '-' : '+'}${expAbs}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intLen = exp + 1;
  if (digits.length <= intLen) return `${sign}${digits}${'0'.repeat(intLen - digits.length)}.0`;
  return `${sign}${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
}
