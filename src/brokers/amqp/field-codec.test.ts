// The patch must load before amqplib (it replaces lib/codec.js#decodeFields before lib/defs.js
// copies it); the adapter imports it first the same way.
import { assertCodecPatched, codecPatch } from './codec-patch';
import * as amqplib from 'amqplib';
import { dirname, join } from 'node:path';
import { PyDateTime, PyDecimal, PyFloat } from '../../serialization/py-values';
import { FrameSyntaxError } from './errors';
import { decodeFieldTableStrict, decodeFields, undecodableReason } from './field-codec';
import { decimalText, fromFieldValue } from './properties';

// py-amqp 5.7 (`amqp/serialization.py`, `_write_table`) encoding of
// {'i64': 2**53+1, 'neg64': -(2**62), 'small': 7, 'i32edge': 2**31, 'dec': Decimal('-123.45'),
//  'dectiny': Decimal('0.000000001'), 'ts': datetime(2024,1,2,3,4,5),
//  'nested': {'a': [1, 'x', {'b': None}], 'f': 1.0}, 'arr': [True, 2.5, b'\xff\x00'],
//  'bytes': b'\xff\xfe', 'txt': 'hé', 'flt': 3.25, 'bool': False, 'none': None}
const PY_AMQP_TABLE = Buffer.from(
  '000000db036936344c0020000000000001056e656736344cc00000000000000005736d616c6c490000000707693332' +
    '656467654c0000000080000000036465634402ffffcfc70764656374696e79440900000001027473540000000065' +
    '937d25066e6573746564460000002501614100000013490000000153000000017846000000030162560166643ff0' +
    '00000000000003617272410000001274016440040000000000005300000002ff000562797465735300000002fffe' +
    '03747874530000000368c3a903666c7464400a00000000000004626f6f6c7400046e6f6e6556',
  'hex',
);

describe('AMQP field tables as py-amqp writes them', () => {
  it('decodes every value exactly, as py-amqp _read_item reads it', () => {
    const raw = decodeFieldTableStrict(PY_AMQP_TABLE.subarray(4));
    const v = fromFieldValue(raw) as Record<string, unknown>;
    expect(v.i64).toBe(2n ** 53n + 1n);
    expect(v.neg64).toBe(-(2n ** 62n));
    expect(v.small).toBe(7);
    expect(v.i32edge).toBe(2147483648);
    expect(v.dec).toEqual(new PyDecimal('-123.45'));
    expect(v.dectiny).toEqual(new PyDecimal('1E-9'));
    expect(v.ts).toEqual(new PyDateTime('2024-01-02T03:04:05'));
    expect(v.nested).toEqual({ a: [1, 'x', { b: null }], f: new PyFloat(1) });
    expect(v.arr).toEqual([true, 2.5, new Uint8Array([0xff, 0])]);
    expect(v.bytes).toEqual(new Uint8Array([0xff, 0xfe])); // not UTF-8: bytes, as py-amqp
    expect(v.txt).toBe('hé');
    expect(v.flt).toBe(3.25);
    expect(v.bool).toBe(false);
    expect(v.none).toBeNull();
  });

  it('reads S as UTF-8 after an ASCII run, and as bytes when the tail is not UTF-8', () => {
    // The ASCII fast path must hand over to the UTF-8 decoder at the first byte >= 0x80.
    const s = (key: string, body: Buffer): Buffer => {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(body.length);
      return Buffer.concat([
        Buffer.from([key.length]),
        Buffer.from(key),
        Buffer.from('S'),
        len,
        body,
      ]);
    };
    const table = Buffer.concat([
      s('ascii', Buffer.from('conformance.add')),
      s('empty', Buffer.alloc(0)),
      s('tail', Buffer.from('(1, "ü")', 'utf8')),
      s('bad', Buffer.from([0x61, 0x62, 0xff])),
      s('lat', Buffer.from([0x61, 0xe9])),
    ]);
    const v = decodeFieldTableStrict(table);
    expect(v.ascii).toBe('conformance.add');
    expect(v.empty).toBe('');
    expect(v.tail).toBe('(1, "ü")');
    expect(v.bad).toEqual(Buffer.from([0x61, 0x62, 0xff]));
    expect(v.lat).toEqual(Buffer.from([0x61, 0xe9])); // latin1 'aé' is not UTF-8: bytes
  });

  it('reads the tags RabbitMQ writes: s, u, U, l, b, B, i, f, x, T, A of F (x-death)', () => {
    const parts: Buffer[] = [];
    const field = (key: string, tag: string, body: Buffer): void => {
      parts.push(Buffer.from([key.length]), Buffer.from(key), Buffer.from(tag, 'latin1'), body);
    };
    const n = (size: number, write: (b: Buffer) => void): Buffer => {
      const b = Buffer.alloc(size);
      write(b);
      return b;
    };
    field(
      's',
      's',
      n(2, (b) => b.writeInt16BE(-2)),
    );
    field(
      'U',
      'U',
      n(2, (b) => b.writeInt16BE(-3)),
    );
    field(
      'u',
      'u',
      n(2, (b) => b.writeUInt16BE(65535)),
    );
    field(
      'l',
      'l',
      n(8, (b) => b.writeBigInt64BE(-1000n)),
    );
    field(
      'b',
      'b',
      n(1, (b) => b.writeInt8(-1)),
    );
    field(
      'B',
      'B',
      n(1, (b) => b.writeUInt8(255)),
    );
    field(
      'i',
      'i',
      n(4, (b) => b.writeUInt32BE(4294967295)),
    );
    field(
      'f',
      'f',
      n(4, (b) => b.writeFloatBE(0.5)),
    );
    field('x', 'x', Buffer.concat([n(4, (b) => b.writeUInt32BE(2)), Buffer.from([1, 2])]));
    const inner = Buffer.concat([
      Buffer.from([5]),
      Buffer.from('count'),
      Buffer.from('l'),
      n(8, (b) => b.writeBigInt64BE(3n)),
    ]);
    const entry = Buffer.concat([
      Buffer.from('F'),
      n(4, (b) => b.writeUInt32BE(inner.length)),
      inner,
    ]);
    field('x-death', 'A', Buffer.concat([n(4, (b) => b.writeUInt32BE(entry.length)), entry]));
    const v = fromFieldValue(decodeFieldTableStrict(Buffer.concat(parts)));
    expect(v).toEqual({
      s: -2,
      U: -3,
      u: 65535,
      l: -1000,
      b: -1,
      B: 255,
      i: 4294967295,
      f: 0.5,
      x: new Uint8Array([1, 2]),
      'x-death': [{ count: 3 }],
    });
  });

  it('turns an undecodable table into a marked value, never a throw, and refuses it later', () => {
    const bad = Buffer.concat([
      Buffer.from([1]),
      Buffer.from('k'),
      Buffer.from('Z'),
      Buffer.from([0]),
    ]);
    const t = decodeFields(bad);
    expect(undecodableReason(t)).toMatch(/Unknown value in table: 'Z'/);
    expect(() => fromFieldValue(t)).toThrow(FrameSyntaxError);
    const truncated = decodeFields(PY_AMQP_TABLE.subarray(4, 40));
    expect(undecodableReason(truncated)).toMatch(/truncated/);
  });

  it('prints decimals as CPython str(Decimal(n) / Decimal(10 ** d))', () => {
    // Pairs checked with python3: str(Decimal(n) / Decimal(10 ** d)).
    const cases: [number, number, string][] = [
      [0, 2, '0'],
      [1200, 2, '12'],
      [12345, 2, '123.45'],
      [-5, 1, '-0.5'],
      [-1200, 2, '-12'],
      [7, 0, '7'],
      [-100, 2, '-1'],
      [1, 9, '1E-9'],
      [123, 8, '0.00000123'],
      [123, 10, '1.23E-8'],
    ];
    for (const [n, d, s] of cases) expect(decimalText(n, d)).toBe(s);
  });
});

describe('amqplib codec patch', () => {
  it('is applied to the amqplib that is loaded, checked by its self-test', () => {
    expect(typeof amqplib.connect).toBe('function');
    expect(codecPatch).toEqual({ amqplibVersion: '2.3.1', applied: true });
    expect(() => {
      assertCodecPatched();
    }).not.toThrow();
  });

  it('makes amqplib decode a py-amqp content header with L values instead of throwing', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const defs = require(join(dirname(require.resolve('amqplib')), 'lib', 'defs.js')) as {
      decode: (id: number, b: Buffer) => { headers: unknown; contentType: unknown };
    };
    const ct = Buffer.from('application/json');
    const frame = Buffer.concat([
      Buffer.from([0xa0, 0x00]), // flags: content-type + headers
      Buffer.from([ct.length]),
      ct,
      PY_AMQP_TABLE,
    ]);
    const props = defs.decode(60, frame);
    expect(props.contentType).toBe('application/json');
    expect((fromFieldValue(props.headers) as Record<string, unknown>).i64).toBe(2n ** 53n + 1n);
  });
});
