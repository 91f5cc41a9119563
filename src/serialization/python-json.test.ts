import { DecodeError, EncodeError } from '../errors/errors';
import { pyJsonDumps, pyJsonLoads } from './python-json';
import type { PyValue } from './py-values';
import { PyDate, PyDateTime, PyDecimal, PyFloat, PyTime, PyUUID } from './py-values';

// Every expected string below is real output of kombu 5.7.0 `kombu.utils.json.dumps` on CPython
// 3.11.7 (scratch venv), or kombu 5.2.4's for the legacy dialect, pasted verbatim.
describe('pyJsonDumps (kombu-5.3 dialect)', () => {
  it('escapes like ensure_ascii, with surrogate pairs and lowercase hex', () => {
    const s = 'héllo ✓ 😀 \x00\x1f\x7f "q" \\ / \b\f\n\r\t \ud800';
    expect(pyJsonDumps(s)).toBe(
      '"h\\u00e9llo \\u2713 \\ud83d\\ude00 \\u0000\\u001f\\u007f \\"q\\" \\\\ / \\b\\f\\n\\r\\t \\ud800"',
    );
  });

  it('writes ints, floats, big ints and non-finite tokens as Python', () => {
    const v: PyValue = [
      1,
      new PyFloat(-0),
      new PyFloat(0),
      new PyFloat(1),
      new PyFloat(1e16),
      1e-7,
      0.1,
      2n ** 64n,
      -(2n ** 70n),
      NaN,
      Infinity,
      -Infinity,
      123456789012345678901234567890n,
      new PyFloat(1.5e300), // a bare integral number would be a Python int
      1e21,
    ];
    expect(pyJsonDumps(v)).toBe(
      '[1, -0.0, 0.0, 1.0, 1e+16, 1e-07, 0.1, 18446744073709551616, -1180591620717411303424, NaN, Infinity, -Infinity, 123456789012345678901234567890, 1.5e+300, 1000000000000000000000]',
    );
  });

  it('uses ", " and ": " separators and keeps key order', () => {
    expect(pyJsonDumps({ a: 1, b: [true, false, null], c: {}, d: [], e: { x: 'y' } })).toBe(
      '{"a": 1, "b": [true, false, null], "c": {}, "d": [], "e": {"x": "y"}}',
    );
  });

  it('writes __type__ envelopes exactly as kombu 5.7', () => {
    const v: PyValue = [
      new PyDateTime('2024-01-02T03:04:05.678901+00:00'),
      new PyDateTime('2024-01-02T03:04:05'),
      new PyDateTime('2024-01-02T03:04:05+05:30'),
      new PyDate('2024-01-02'),
      new PyTime('03:04:05'),
      new PyTime('03:04:05.000123'),
      new PyDecimal('1.50'),
      new PyUUID('12345678-1234-5678-1234-567812345678'),
      Uint8Array.from([0xff, 0x00]),
      Buffer.from('abc'),
      Buffer.from('hé'),
    ];
    expect(pyJsonDumps(v)).toBe(
      '[{"__type__": "datetime", "__value__": "2024-01-02T03:04:05.678901+00:00"}, {"__type__": "datetime", "__value__": "2024-01-02T03:04:05"}, {"__type__": "datetime", "__value__": "2024-01-02T03:04:05+05:30"}, {"__type__": "date", "__value__": "2024-01-02"}, {"__type__": "time", "__value__": "03:04:05"}, {"__type__": "time", "__value__": "03:04:05.000123"}, {"__type__": "decimal", "__value__": "1.50"}, {"__type__": "uuid", "__value__": {"hex": "12345678123456781234567812345678"}}, {"__type__": "base64", "__value__": "/wA="}, {"__type__": "bytes", "__value__": "abc"}, {"__type__": "bytes", "__value__": "h\\u00e9"}]',
    );
  });

  it('writes a JS Date as Python isoformat of the aware UTC datetime', () => {
    expect(pyJsonDumps(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)))).toBe(
      '{"__type__": "datetime", "__value__": "2024-01-02T03:04:05.678000+00:00"}',
    );
    // isoformat() omits a zero microsecond field.
    expect(pyJsonDumps(new Date(Date.UTC(2024, 0, 2)))).toBe(
      '{"__type__": "datetime", "__value__": "2024-01-02T00:00:00+00:00"}',
    );
    expect(() => pyJsonDumps(new Date(NaN))).toThrow(EncodeError);
  });

  it('rejects values Python cannot serialize', () => {
    expect(() => pyJsonDumps(new Map() as unknown as PyValue)).toThrow(EncodeError);
    expect(() => pyJsonDumps(undefined as unknown as PyValue)).toThrow(EncodeError);
    const cyclic: PyValue[] = [];
    cyclic.push(cyclic);
    expect(() => pyJsonDumps(cyclic)).toThrow(EncodeError);
  });
});

describe('pyJsonDumps (kombu-legacy dialect)', () => {
  const legacy = (v: PyValue): string => pyJsonDumps(v, { dialect: 'kombu-legacy' });
  it('writes kombu 5.2 plain strings', () => {
    expect(
      legacy([
        new PyDateTime('2024-01-02T03:04:05.678901+00:00'),
        new PyDateTime('2024-01-02T03:04:05+05:30'),
        new PyDate('2024-01-02'),
        new PyTime('03:04:05'),
        new PyDecimal('1.5'),
        new PyUUID('12345678123456781234567812345678'),
        new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)),
      ]),
    ).toBe(
      '["2024-01-02T03:04:05.678901Z", "2024-01-02T03:04:05+05:30", "2024-01-02T00:00:00", "03:04:05", "1.5", "12345678-1234-5678-1234-567812345678", "2024-01-02T03:04:05.678000Z"]',
    );
  });
  it('refuses bytes like kombu 5.2', () => {
    expect(() => legacy(Buffer.from('abc'))).toThrow(EncodeError);
  });
});

describe('pyJsonLoads', () => {
  it('keeps Python number kinds', () => {
    const v = pyJsonLoads(
      '[1.0, 1e16, 1E2, -0, -0.0, 12345678901234567890, 0.5, 9007199254740991]',
    );
    expect(v).toEqual([
      new PyFloat(1),
      new PyFloat(1e16),
      new PyFloat(100),
      0,
      new PyFloat(-0),
      12345678901234567890n,
      0.5,
      9007199254740991,
    ]);
    expect(Object.is((v as PyValue[])[3], 0)).toBe(true);
    expect(Object.is(((v as PyValue[])[4] as PyFloat).value, -0)).toBe(true);
  });

  it('accepts NaN and Infinity tokens', () => {
    expect(pyJsonLoads('[NaN, Infinity, -Infinity]')).toEqual([NaN, Infinity, -Infinity]);
  });

  it('decodes escapes and surrogate pairs', () => {
    expect(pyJsonLoads('"h\\u00e9 \\ud83d\\ude00 \\/ \\"x\\" \\n"')).toBe('hé 😀 / "x" \n');
    expect(pyJsonLoads('"plain"')).toBe('plain');
  });

  it('lets the last duplicate key win, keeping its first position', () => {
    const v = pyJsonLoads('{"a": 1, "b": 2, "a": 3}');
    expect(v).toEqual({ a: 3, b: 2 });
    expect(Object.keys(v as object)).toEqual(['a', 'b']);
  });

  it('keeps a "__proto__" key as data', () => {
    const v = pyJsonLoads('{"__proto__": {"x": 1}}') as Record<string, PyValue>;
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
  });

  it('revives kombu envelopes', () => {
    const text =
      '[{"__type__": "datetime", "__value__": "2024-01-02T03:04:05.678901+00:00"}, {"__type__": "date", "__value__": "2024-01-02T03:04:05"}, {"__type__": "time", "__value__": "03:04:05"}, {"__type__": "decimal", "__value__": "1.50"}, {"__type__": "uuid", "__value__": {"hex": "12345678123456781234567812345678", "version": 4}}, {"__type__": "base64", "__value__": "/wA="}, {"__type__": "bytes", "__value__": "h\\u00e9"}, {"__type__": "datetime", "__value__": "x", "extra": 1}]';
    const v = pyJsonLoads(text) as PyValue[];
    expect(v[0]).toEqual(new PyDateTime('2024-01-02T03:04:05.678901+00:00'));
    expect(v[1]).toEqual(new PyDate('2024-01-02')); // datetime.fromisoformat(v).date()
    expect(v[2]).toEqual(new PyTime('03:04:05'));
    expect(v[3]).toEqual(new PyDecimal('1.50'));
    // CPython: UUID(hex=..., version=4) == UUID('12345678-1234-4678-9234-567812345678')
    expect((v[4] as PyUUID).toString()).toBe('12345678-1234-4678-9234-567812345678');
    expect(Buffer.from(v[5] as Uint8Array)).toEqual(Buffer.from([0xff, 0]));
    expect(Buffer.from(v[6] as Uint8Array).toString('utf8')).toBe('hé');
    expect(v[7]).toEqual({ __type__: 'datetime', __value__: 'x', extra: 1 });
  });

  it('round-trips every envelope kind', () => {
    const v: PyValue = {
      dt: new PyDateTime('2024-01-02T03:04:05'),
      u: new PyUUID('12345678123456781234567812345678'),
      b: Buffer.from([1, 2, 255]),
      f: new PyFloat(2),
    };
    expect(pyJsonLoads(pyJsonDumps(v))).toEqual(v);
  });

  // Python messages from json.loads / kombu.utils.json.loads on the same input.
  it.each([
    ['{"__type__": "foo", "__value__": 1}', 'Unsupported type'],
    ['{"__type__": "base64", "__value__": "abc"}', 'Incorrect padding'],
    ['[1,]', 'Expecting value: line 1 column 4 (char 3)'],
    ['{"a" 1}', "Expecting ':' delimiter: line 1 column 6 (char 5)"],
    ['"abc', 'Unterminated string starting at: line 1 column 1 (char 0)'],
    ['"a\x01"', 'Invalid control character at: line 1 column 3 (char 2)'],
    ['01', 'Extra data: line 1 column 2 (char 1)'],
    ['[1] x', 'Extra data: line 1 column 5 (char 4)'],
    ['\ufeff[]', 'Expecting value: line 1 column 1 (char 0)'],
    ['{"a":1,}', 'Expecting property name enclosed in double quotes: line 1 column 8 (char 7)'],
    ['-', 'Expecting value: line 1 column 1 (char 0)'],
    ['1.', 'Extra data: line 1 column 2 (char 1)'],
    ['"\\x"', 'Invalid \\escape: line 1 column 2 (char 1)'],
    ['"\\u12"', 'Invalid \\uXXXX escape: line 1 column 3 (char 2)'],
    ['', 'Expecting value: line 1 column 1 (char 0)'],
    ['[1,\n  2 3]', "Expecting ',' delimiter: line 2 column 5 (char 8)"],
  ])('rejects %j with DecodeError', (text, message) => {
    expect(() => pyJsonLoads(text)).toThrow(DecodeError);
    expect(() => pyJsonLoads(text)).toThrow(message);
  });

  it('turns stack exhaustion into DecodeError', () => {
    expect(() => pyJsonLoads('['.repeat(200000))).toThrow(DecodeError);
  });
});
