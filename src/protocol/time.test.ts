import { InvalidTaskError } from '../errors/errors';
import { PyDateTime } from '../serialization/py-values';
import { isoAfter, isoformatMicros, parseIsoMicros, secondsToMicros, secondsUntil } from './time';

const T0 = Date.UTC(2026, 10, 22, 15, 43, 47) * 1000;

describe('time', () => {
  it('formats like datetime.isoformat()', () => {
    expect(isoformatMicros(T0 + 782015)).toBe('2026-11-22T15:43:47.782015+00:00');
    expect(isoformatMicros(T0)).toBe('2026-11-22T15:43:47+00:00');
    expect(isoformatMicros(T0 + 5, { naive: true })).toBe('2026-11-22T15:43:47.000005');
  });
  it('adds countdowns with µs precision from an injected clock', () => {
    const now = new PyDateTime('2026-01-02T03:04:05.678901+00:00');
    expect(isoAfter(now, 5)).toBe('2026-01-02T03:04:10.678901+00:00');
    expect(isoAfter(now, 12.5)).toBe('2026-01-02T03:04:18.178901+00:00');
    expect(isoAfter(new Date(Date.UTC(2026, 0, 1)), 1)).toBe('2026-01-01T00:00:01+00:00');
  });
  it('rounds half to even like timedelta', () => {
    expect(secondsToMicros(0.0000005)).toBe(0);
    expect(secondsToMicros(0.0000015)).toBe(2);
  });
  it.each([
    ['2026-11-22T15:43:47.782015+00:00', T0 + 782015],
    ['2026-11-22T15:43:47.782015Z', T0 + 782015],
    ['2026-11-22T15:43:47', T0],
    ['2026-11-22 15:43:47.1', T0 + 100000],
    ['2026-11-22T15:43:47.123456789Z', T0 + 123456],
    ['2026-11-22T17:43:47+02:00', T0],
    ['2026-11-22T10:43:47-0500', T0],
  ])('parses %s leniently (naive = UTC)', (text, micros) => {
    expect(parseIsoMicros(text)).toBe(micros);
  });
  it.each([
    '',
    'tomorrow',
    '2026-13-01T00:00:00',
    '2026-02-30T00:00:00',
    '2026-01-01T25:00:00',
    '2026-01-01T00:00:00+99:00',
  ])('rejects %p with InvalidTaskError', (text) => {
    expect(() => parseIsoMicros(text, '/headers/eta')).toThrow(InvalidTaskError);
  });
  it('computes remaining seconds for expiration', () => {
    expect(
      secondsUntil('2026-01-02T05:00:00+00:00', new PyDateTime('2026-01-02T03:04:05.678901+00:00')),
    ).toBeCloseTo(6954.321099, 6);
  });
});
