import { DecodeError, EncodeError } from '../errors/errors';
import { packPyMsgpack, unpackPyMsgpack } from './msgpack';
import type { PyValue } from './py-values';
import { PyDateTime, PyFloat } from './py-values';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// Expected hex is `msgpack.packb(v, use_bin_type=True).hex()` from msgpack-python 1.2.4 (CPython
// 3.11.7, the version kombu 5.7.0 pulled into our scratch venv).
const TASK_BODY =
  '939201028084a963616c6c6261636b73c0a86572726261636b73c0a5636861696ec0a563686f7264c0';
const many = (): PyValue[] => [
  0,
  127,
  128,
  255,
  256,
  65535,
  65536,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 40,
  2n ** 53n + 1n,
  2n ** 64n - 1n,
  -1,
  -32,
  -33,
  -128,
  -129,
  -32768,
  -32769,
  -(2 ** 31),
  -(2 ** 31) - 1,
  -(2 ** 40),
  -(2n ** 63n),
  new PyFloat(1),
  0.5,
  new PyFloat(-0),
  NaN,
  'a'.repeat(31),
  'a'.repeat(32),
  'a'.repeat(256),
  'é',
  Uint8Array.from([0, 255]),
  Buffer.alloc(256, 'x'),
  true,
  false,
  null,
  { ['k'.repeat(40)]: new Array<PyValue>(16).fill(1) },
];
const MANY_HEX =
  'dc0025007fcc80ccffcd0100cdffffce00010000ceffffffffcf0000000100000000cf0000010000000000cf0020000000000001cfffffffffffffffffffe0d0dfd080d1ff7fd18000d2ffff7fffd280000000d3ffffffff7fffffffd3ffffff0000000000d38000000000000000cb3ff0000000000000cb3fe0000000000000cb8000000000000000cb7ff8000000000000bf' +
  '61'.repeat(31) +
  'd920' +
  '61'.repeat(32) +
  'da0100' +
  '61'.repeat(256) +
  'a2c3a9c40200ffc50100' +
  '78'.repeat(256) +
  'c3c2c081d928' +
  '6b'.repeat(40) +
  'dc0010' +
  '01'.repeat(16);

describe('packPyMsgpack', () => {
  it('packs a task body like packb(use_bin_type=True)', () => {
    expect(
      hex(
        packPyMsgpack([[1, 2], {}, { callbacks: null, errbacks: null, chain: null, chord: null }]),
      ),
    ).toBe(TASK_BODY);
  });
  it('uses Python’s int/float/str/bin/container encodings byte for byte', () => {
    expect(hex(packPyMsgpack(many()))).toBe(MANY_HEX);
  });
  it('keeps earlier results intact after further packing', () => {
    const a = packPyMsgpack('first');
    packPyMsgpack('second'.repeat(100));
    expect(hex(a)).toBe('a56669727374');
  });
  it('refuses what Python msgpack refuses', () => {
    expect(() => packPyMsgpack(2n ** 64n)).toThrow(EncodeError);
    expect(() => packPyMsgpack(new PyDateTime('2024-01-02T03:04:05'))).toThrow(EncodeError);
    expect(() => packPyMsgpack([new Date(0)])).toThrow(EncodeError);
  });
});

describe('unpackPyMsgpack', () => {
  it('reads Python bytes back into PyValues', () => {
    const v = unpackPyMsgpack(Buffer.from(MANY_HEX, 'hex')) as PyValue[];
    const expected = many();
    expected[10] = 2n ** 53n + 1n;
    expect(v).toEqual(expected);
    expect(v[9]).toBe(2 ** 40); // safe ints come back as numbers
    expect(Object.is((v[25] as PyFloat).value, -0)).toBe(true);
  });
  it('round-trips', () => {
    const v: PyValue = { a: [1, new PyFloat(2), 2.5, 'x', Buffer.from([1])], b: { c: null } };
    expect(unpackPyMsgpack(packPyMsgpack(v))).toEqual(v);
  });
  it.each([
    ['truncated', '92 01'],
    ['trailing', '01 02'],
    ['bad utf-8', 'a1 ff'],
    ['int key', '81 01 02'],
    ['ext', 'd4 01 00'],
  ])('rejects %s data', (_name, h) => {
    expect(() => unpackPyMsgpack(Buffer.from(h.replace(/ /g, ''), 'hex'))).toThrow(DecodeError);
  });
});
