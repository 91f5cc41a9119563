/**
 * `msgpack.unpackb(data, raw=False)` (msgpack-python ≥ 1.0 defaults) into {@link PyValue}s:
 * str → string (strict UTF-8), bin → bytes, float32/64 → float (integral ones as {@link PyFloat}),
 * ints beyond ±(2^53 − 1) → bigint, maps need str keys (`strict_map_key=True`). Ext types have no
 * PyValue form (Python returns `ExtType`), so they are a {@link DecodeError}.
 */
import { DecodeError } from '../errors/errors';
import type { PyValue } from './py-values';
import { PyFloat } from './py-values';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function asFloat(x: number): number | PyFloat {
  return Number.isInteger(x) ? new PyFloat(x) : x;
}

function asInt(n: bigint): number | bigint {
  return n >= -9007199254740991n && n <= 9007199254740991n ? Number(n) : n;
}

class Reader {
  pos = 0;
  readonly view: DataView;
  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  need(n: number): number {
    const at = this.pos;
    if (at + n > this.buf.length) throw new DecodeError(`msgpack data truncated at byte ${at}`);
    this.pos = at + n;
    return at;
  }

  str(n: number): string {
    const at = this.need(n);
    try {
      return utf8.decode(this.buf.subarray(at, at + n));
    } catch (e) {
      throw new DecodeError(`invalid UTF-8 in msgpack str at byte ${at}`, { cause: e });
    }
  }

  bin(n: number): Uint8Array {
    const at = this.need(n);
    return Buffer.from(this.buf.subarray(at, at + n));
  }

  array(n: number, depth: number): PyValue[] {
    const out: PyValue[] = new Array<PyValue>(n);
    for (let i = 0; i < n; i++) out[i] = this.value(depth);
    return out;
  }

  map(n: number, depth: number): PyValue {
    const out: Record<string, PyValue> = {};
    for (let i = 0; i < n; i++) {
      const keyAt = this.pos;
      const key = this.value(depth);
      if (typeof key !== 'string') {
        throw new DecodeError(`msgpack map key at byte ${keyAt} is not a str`);
      }
      const v = this.value(depth);
      if (key === '__proto__') {
        Object.defineProperty(out, key, { value: v, enumerable: true, writable: true });
      } else out[key] = v;
    }
    return out;
  }

  value(depth: number): PyValue {
    if (depth > 1000) throw new DecodeError('msgpack data nested too deeply');
    const b = this.buf[this.need(1)] ?? 0;
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b >= 0xa0 && b <= 0xbf) return this.str(b & 0x1f);
    if (b >= 0x90 && b <= 0x9f) return this.array(b & 0x0f, depth + 1);
    if (b >= 0x80 && b <= 0x8f) return this.map(b & 0x0f, depth + 1);
    const v = this.view;
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return this.bin(v.getUint8(this.need(1)));
      case 0xc5:
        return this.bin(v.getUint16(this.need(2)));
      case 0xc6:
        return this.bin(v.getUint32(this.need(4)));
      case 0xca:
        return asFloat(v.getFloat32(this.need(4)));
      case 0xcb:
        return asFloat(v.getFloat64(this.need(8)));
      case 0xcc:
        return v.getUint8(this.need(1));
      case 0xcd:
        return v.getUint16(this.need(2));
      case 0xce:
        return v.getUint32(this.need(4));
      case 0xcf:
        return asInt(v.getBigUint64(this.need(8)));
      case 0xd0:
        return v.getInt8(this.need(1));
      case 0xd1:
        return v.getInt16(this.need(2));
      case 0xd2:
        return v.getInt32(this.need(4));
      case 0xd3:
        return asInt(v.getBigInt64(this.need(8)));
      case 0xd9:
        return this.str(v.getUint8(this.need(1)));
      case 0xda:
        return this.str(v.getUint16(this.need(2)));
      case 0xdb:
        return this.str(v.getUint32(this.need(4)));
      case 0xdc:
        return this.array(v.getUint16(this.need(2)), depth + 1);
      case 0xdd:
        return this.array(v.getUint32(this.need(4)), depth + 1);
      case 0xde:
        return this.map(v.getUint16(this.need(2)), depth + 1);
      case 0xdf:
        return this.map(v.getUint32(this.need(4)), depth + 1);
      default:
        // c1 (never used), c7–c9 and d4–d8 (ext types).
        throw new DecodeError(
          `unsupported msgpack type byte 0x${b.toString(16)} at ${this.pos - 1}`,
        );
    }
  }
}

/** Unpack one msgpack object as `unpackb(raw=False)`; trailing bytes are an error, as in Python. */
export function unpackPyMsgpack(data: Uint8Array): PyValue {
  const r = new Reader(data);
  const v = r.value(0);
  if (r.pos !== data.length)
    throw new DecodeError('msgpack ExtraData: trailing bytes after object');
  return v;
}
