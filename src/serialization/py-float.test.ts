import { pyFloatRepr } from './py-float';

// Expected strings are CPython 3.11 `repr(float)` output.
const cases: [number, string][] = [
  [1, '1.0'],
  [-0, '-0.0'],
  [0, '0.0'],
  [0.1, '0.1'],
  [1.5, '1.5'],
  [1e-7, '1e-07'],
  [1e16, '1e+16'],
  [1.5e16, '1.5e+16'],
  [123456789012345.6, '123456789012345.6'],
  // eslint-disable-next-line no-loss-of-precision -- deliberately rounds: CPython reads this literal the same way
  [1234567890123456.7, '1234567890123456.8'],
  [0.0001, '0.0001'],
  [0.00001, '1e-05'],
  [1e22, '1e+22'],
  [5e-324, '5e-324'],
  [1.7976931348623157e308, '1.7976931348623157e+308'],
  [-2.5, '-2.5'],
  [100, '100.0'],
  [Infinity, 'inf'],
  [-Infinity, '-inf'],
  [NaN, 'nan'],
  [9999999999999998, '9999999999999998.0'],
];

describe('pyFloatRepr', () => {
  it.each(cases)('repr(%p) is %s', (x, expected) => {
    expect(pyFloatRepr(x)).toBe(expected);
  });
});
