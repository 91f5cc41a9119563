/**
 * kombu's msgpack codec (`kombu/serialization.py, register_msgpack`): `packb(use_bin_type=True)`
 * and `unpackb(raw=False)`, no ext hooks. Packing uses msgpackr with two raw-byte extensions so
 * that the bytes equal Python's: a {@link PyFloat} is always float64 and an int beyond int32 takes
 * Python's smallest form (uint64 `cf` for positives, int64 `d3` for negatives), where msgpackr
 * alone would write a float64 or always `d3`. Unpacking is a small reader of our own, because
 * msgpackr forgets whether a float64 held an integral value (`1.0` must stay a Python float).
 */
import { Packr, addExtension } from 'msgpackr';
import { EncodeError } from '../errors/errors';
import { isPyDict, PyFloat } from './py-values';
import type { PyValue } from './py-values';
export { unpackPyMsgpack } from './msgpack-reader';

/** An int msgpackr would not pack as Python does; packed by the extension below. */
class WideInt {
  constructor(readonly value: bigint) {}
}

// msgpackr's typings only describe `pack` returning bytes; it also accepts writing in place.
type ExtensionSpec = Parameters<typeof addExtension>[0];

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

// `pack` writing into allocateForWrite and returning nothing emits raw bytes without an ext
// header (msgpackr pack.js, extension.pack). The type codes are only used for registration.
addExtension({
  Class: PyFloat,
  type: 0x7e,
  pack(v: PyFloat, alloc: (n: number) => { target: Uint8Array; position: number }) {
    const { target, position } = alloc(9);
    target[position] = 0xcb;
    new DataView(target.buffer, target.byteOffset).setFloat64(position + 1, v.value);
  },
  unpack() {
    throw new Error('unsupported msgpack ext type 126');
  },
} as unknown as ExtensionSpec);
addExtension({
  Class: WideInt,
  type: 0x7d,
  pack(w: WideInt, alloc: (n: number) => { target: Uint8Array; position: number }) {
    const { target, position } = alloc(9);
    const view = new DataView(target.buffer, target.byteOffset);
    target[position] = w.value >= 0n ? 0xcf : 0xd3;
    if (w.value >= 0n) view.setBigUint64(position + 1, w.value);
    else view.setBigInt64(position + 1, w.value);
  },
  unpack() {
    throw new Error('unsupported msgpack ext type 125');
  },
} as unknown as ExtensionSpec);

const packr = new Packr({ useRecords: false, variableMapSize: true, moreTypes: false });

function wideInt(n: bigint): PyValue | WideInt {
  if (n < INT64_MIN || n > UINT64_MAX) {
    throw new EncodeError(`Integer value out of range for msgpack: ${n}`);
  }
  // Python packs by value, so a small bigint is packed like the same number.
  if (n >= -0x80000000n && n <= 0xffffffffn) return Number(n);
  return new WideInt(n);
}

type Prepared = PyValue | WideInt;

/**
 * Validate (Python's msgpack refuses datetimes, Decimal, UUID, …) and swap in {@link WideInt}
 * where needed, copying only the containers that change.
 */
function prepare(v: PyValue, depth: number): Prepared {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      if (Number.isInteger(v) && (v > 0xffffffff || v < -0x80000000)) {
        return wideInt(BigInt(v));
      }
      return v;
    case 'bigint':
      return wideInt(v);
    case 'object':
      break;
    case 'undefined':
    case 'function':
    case 'symbol':
      throw new EncodeError(`can not serialize '${typeof v}' object`);
  }
  if (v === null || v instanceof PyFloat || v instanceof Uint8Array) return v;
  if (depth > 512) throw new EncodeError('value nested too deeply for msgpack');
  if (Array.isArray(v)) {
    const arr = v as readonly PyValue[];
    let copy: Prepared[] | undefined;
    for (let i = 0; i < arr.length; i++) {
      const item = arr[i] as PyValue;
      const p = prepare(item, depth + 1);
      if (p !== item && copy === undefined) copy = arr.slice(0, i);
      if (copy !== undefined) copy.push(p);
    }
    return (copy ?? arr) as Prepared;
  }
  if (isPyDict(v)) {
    let copy: Record<string, Prepared> | undefined;
    for (const key of Object.keys(v)) {
      const item = v[key] as PyValue;
      const p = prepare(item, depth + 1);
      if (p !== item && copy === undefined) copy = { ...v };
      if (copy !== undefined) copy[key] = p;
    }
    return (copy ?? v) as Prepared;
  }
  const name = (v as { constructor?: { name?: string } }).constructor?.name ?? 'object';
  throw new EncodeError(`can not serialize '${name}' object`);
}

/** Byte-exact `msgpack.packb(value, use_bin_type=True)` for the values msgpack can carry. */
export function packPyMsgpack(value: PyValue): Uint8Array {
  const prepared = prepare(value, 0);
  try {
    return packr.pack(prepared);
  } catch (e) {
    throw new EncodeError('msgpack encoding failed', { cause: e });
  }
}
