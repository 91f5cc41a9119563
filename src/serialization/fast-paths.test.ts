import { needsExactParser, scanNeedsExactParser } from './json-fast-scan';
import { parsePyJson, parsePyJsonExact } from './json-parser';
import { pyFloatRepr } from './py-float';
import { PyFloat, type PyValue } from './py-values';

// Deterministic LCG so any failure is reproducible.
let seed = 777;
function rnd(): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
}
function pick<T>(xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)] as T;
}

const NUMBERS = [
  '0',
  '-0',
  '1',
  '-1',
  '1.0',
  '-0.0',
  '1.5',
  '1e3',
  '1E-2',
  '0.25',
  '123456789012345',
  '1234567890123456',
  '9007199254740993',
  '1.0000000000000001',
  '12.50',
  '99999999999999.99',
  'NaN',
  'Infinity',
  '-Infinity',
  '01',
  '1.',
];
const STRINGS = [
  '"a"',
  '"__type__"',
  '"\\u005f_type__"',
  '"x\\"y"',
  '"\\\\"',
  '"1.0"',
  '"\\u00e9"',
  '"\\ud800"',
  '"bad\u0001"',
  '"unterminated',
];

function gen(depth: number): string {
  const r = rnd();
  if (depth > 3 || r < 0.45)
    return rnd() < 0.5 ? pick(NUMBERS) : pick([...STRINGS, 'true', 'null']);
  const items = Array.from({ length: Math.floor(rnd() * 4) }, () => gen(depth + 1));
  if (r < 0.7) return `[${items.join(pick([', ', ',', ' ,\n']))}]`;
  if (rnd() < 0.1) return `{"__type__": "decimal", "__value__": ${pick(['"1.5"', '1'])}}`;
  const keys = ['"k"', '"__proto__"', '"__type__"', '"x"'];
  return `{${items.map((v, i) => `${pick(keys)}${String(i)}": ${v}`.replace('"0"', '"')).join(', ')}}`;
}

/** Structural equality that tells PyFloat from number, bigint from number and -0 from 0. */
function same(a: unknown, b: unknown): boolean {
  if (typeof a !== typeof b) return false;
  if (typeof a === 'number') return Object.is(a, b);
  if (typeof a !== 'object' || a === null || b === null) return a === b;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const ka = Reflect.ownKeys(a);
  const kb = Reflect.ownKeys(b as object);
  if (ka.length !== kb.length) return false;
  return ka.every(
    (k, i) =>
      k === kb[i] &&
      same((a as Record<PropertyKey, unknown>)[k], (b as Record<PropertyKey, unknown>)[k]),
  );
}

function outcome(f: (t: string) => PyValue, t: string): { ok: PyValue } | { err: string } {
  try {
    return { ok: f(t) };
  } catch (e) {
    return { err: e instanceof Error ? `${e.constructor.name}: ${e.message}` : 'non-error' };
  }
}

describe('parsePyJson native fast path', () => {
  it('gives exactly what the reference parser gives (values, types, errors)', () => {
    let native = 0;
    for (let i = 0; i < 20000; i++) {
      const t = gen(0);
      if (!needsExactParser(t)) native++;
      const fast = outcome(parsePyJson, t);
      const exact = outcome(parsePyJsonExact, t);
      if (!same(fast, exact)) throw new Error(`differs on ${JSON.stringify(t)}`);
      // The loop scanner (used above 64 KiB) must be just as safe.
      if (!scanNeedsExactParser(t)) {
        const native = outcome((x) => JSON.parse(x) as PyValue, t);
        if ('ok' in native && !same(native, exact)) {
          throw new Error(`loop scanner unsafe on ${JSON.stringify(t)}`);
        }
      }
    }
    expect(native).toBeGreaterThan(1000);
  });

  it('both scanners send every inexact token to the exact parser', () => {
    for (const f of [needsExactParser, scanNeedsExactParser]) {
      for (const t of [
        '[1.0]',
        '[-0]',
        '[1e3]',
        '[1234567890123456]',
        '[NaN]',
        '{"__type__": 1}',
      ]) {
        expect([t, f(t)]).toEqual([t, true]);
      }
      expect(f('{"__typ\\u0065__": 1}')).toBe(true);
      expect(f('{"retries": 0, "x": -0.5, "s": "1.0 é", "t": [0.25, 12]}')).toBe(false);
    }
    expect(needsExactParser('{"s": "1.0 \\u00e9 \\n"}')).toBe(false);
  });
});

describe('parsePyJson on texts above the regex size limit', () => {
  it('still finds an integral float at the end', () => {
    const big = `[${'"x", 2.5, '.repeat(20000)}1.0]`;
    expect(big.length).toBeGreaterThan(1 << 16);
    const v = parsePyJson(big) as PyValue[];
    expect(v[v.length - 1]).toBeInstanceOf(PyFloat);
    expect(v[1]).toBe(2.5);
  });
});

describe('pyFloatRepr few-decimals path', () => {
  it('matches the shortest repr (String) for decimals in the plain range', () => {
    for (let i = 0; i < 50000; i++) {
      const x =
        (Math.floor(rnd() * 10 ** (1 + Math.floor(rnd() * 9))) / 10 ** Math.floor(rnd() * 8)) *
        (rnd() < 0.5 ? -1 : 1);
      const abs = Math.abs(x);
      if (Number.isInteger(x) || abs < 1e-4 || abs >= 1e16) continue;
      if (pyFloatRepr(x) !== String(x))
        throw new Error(`${String(x)} printed as ${pyFloatRepr(x)}`);
    }
    expect(pyFloatRepr(0.1 + 0.2)).toBe('0.30000000000000004');
    expect(pyFloatRepr(-3.125)).toBe('-3.125');
    expect(pyFloatRepr(0.0001)).toBe('0.0001');
  });
});
