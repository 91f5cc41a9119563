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
    const s = String(x);
    return Number.isInteger(x) ? `${s}.0` : s;
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
