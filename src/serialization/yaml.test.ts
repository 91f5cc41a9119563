import { DecodeError, EncodeError } from '../errors/errors';
import { dumpPyYaml, loadPyYaml } from './yaml';
import type { PyValue } from './py-values';
import { PyDate, PyDateTime, PyDecimal, PyFloat } from './py-values';

describe('yaml', () => {
  it('dumps a task body like PyYAML safe_dump', () => {
    // PyYAML 6.0.3: yaml.safe_dump(((1, 2), {}, {...embed}))
    expect(
      dumpPyYaml([[1, 2], {}, { callbacks: null, errbacks: null, chain: null, chord: null }]),
    ).toBe(
      '- - 1\n  - 2\n- {}\n- callbacks: null\n  chain: null\n  chord: null\n  errbacks: null\n',
    );
  });
  it('loads PyYAML output into Python value kinds', () => {
    // PyYAML 6.0.3 safe_dump({"a": 1.0, "b": "x", "c": [1.5, True], "d": datetime(...), "e": 2**70, "f": "é"})
    const py =
      'a: 1.0\nb: x\nc:\n- 1.5\n- true\nd: 2024-01-02 03:04:05.678901\ne: 1180591620717411303424\nf: "\\xE9"\n';
    expect(loadPyYaml(py)).toEqual({
      a: new PyFloat(1),
      b: 'x',
      c: [1.5, true],
      d: new PyDateTime('2024-01-02T03:04:05.678901'),
      e: 2n ** 70n,
      f: 'é',
    });
  });
  it('revives timestamps as PyYAML does', () => {
    expect(loadPyYaml('[2024-01-02, 2024-01-02T03:04:05Z, 2024-1-2 03:04:05.5 +5, .nan]')).toEqual([
      new PyDate('2024-01-02'),
      new PyDateTime('2024-01-02T03:04:05+00:00'),
      new PyDateTime('2024-01-02T03:04:05.500000+05:00'),
      NaN,
    ]);
  });
  it('round-trips', () => {
    const v: PyValue = {
      f: [new PyFloat(1e16), new PyFloat(-0), 0.25, NaN, -Infinity],
      i: [2n ** 64n, -5],
      t: new PyDateTime('2024-01-02T03:04:05.678901+00:00'),
      b: Buffer.from([0, 255]),
    };
    const text = dumpPyYaml(v);
    expect(text).toContain('1.0e+16');
    const back = loadPyYaml(text) as Record<string, PyValue>;
    expect(back.f).toEqual(v.f);
    expect(back.i).toEqual(v.i);
    expect(back.t).toEqual(v.t);
    expect(Buffer.from(back.b as Uint8Array)).toEqual(Buffer.from([0, 255]));
  });
  it('refuses what safe_dump refuses, and reports bad YAML', () => {
    expect(() => dumpPyYaml([new PyDecimal('1.5')])).toThrow(EncodeError);
    expect(() => loadPyYaml('a: [1, 2')).toThrow(DecodeError);
  });
});
