/**
 * AMQP 0-9-1 field-table decoding as py-amqp reads it (`amqp/serialization.py`, `_read_item`),
 * covering every tag py-amqp and RabbitMQ write. It replaces amqplib's `decodeFields`
 * (`amqplib/lib/codec.js`), which throws `Unexpected type tag "L"` on py-amqp's 64-bit integers
 * (py-amqp `_write_item` writes ints outside ±2^31 as `L`) and rounds 64-bit values to doubles.
 *
 * Output keeps amqplib's own shapes (so amqplib internals and its encoder accept them):
 * numbers, strings, booleans, `null`, Buffers, arrays, objects, and `{'!': 'decimal' | 'timestamp'}`
 * tagged values. Where amqplib was lossy it now is not:
 * - 64-bit integers outside ±(2^53 − 1) are `bigint` (exact);
 * - integral doubles/floats are `{'!': 'double', value}` (so Python's `1.0` stays a float);
 * - `D` digits are signed (py-amqp packs `>cBi`), `U` is a signed 16-bit int (py-amqp `>h`);
 * - `S` that is not valid UTF-8 is a Buffer (py-amqp falls back to bytes).
 * A table that still cannot be decoded comes back as `{ [UNDECODABLE]: reason }`: the delivery
 * carrying it is dead-lettered by the consumer, and the connection stays up.
 */

/** Symbol key on a headers table that could not be decoded; its value is the reason. */
export const UNDECODABLE: unique symbol = Symbol.for('celery-wire.amqp.undecodable');

export type DecodedField =
  | null
  | boolean
  | number
  | bigint
  | string
  | Buffer
  | { readonly '!': 'decimal'; readonly value: { places: number; digits: number } }
  | { readonly '!': 'timestamp'; readonly value: number | bigint }
  | { readonly '!': 'double'; readonly value: number }
  | DecodedField[]
  | DecodedTable;
export interface DecodedTable {
  [key: string]: DecodedField;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function int64(v: bigint): number | bigint {
  return v > SAFE || v < -SAFE ? v : Number(v);
}

function double(v: number): number | { '!': 'double'; value: number } {
  return Number.isInteger(v) || Object.is(v, -0) ? { '!': 'double', value: v } : v;
}

/**
 * `S` as py-amqp reads it: UTF-8, or the raw bytes when they are not UTF-8. Pure ASCII (every
 * Celery header but a non-ASCII argsrepr) is read as latin1, which gives the same string as the
 * UTF-8 decoder without its per-call cost (the fatal TextDecoder was the top item of a drain's
 * header decoding).
 */
function text(b: Buffer, at: number, end: number): string | Buffer {
  let i = at;
  while (i < end && (b[i] ?? 0) < 0x80) i++;
  if (i === end) return b.toString('latin1', at, end);
  const bytes = b.subarray(at, end);
  try {
    return utf8.decode(bytes);
  } catch {
    return Buffer.from(bytes);
  }
}

class Reader {
  offset = 0;
  constructor(readonly buf: Buffer) {}

  need(n: number): number {
    const at = this.offset;
    if (at + n > this.buf.length) {
      throw new RangeError(`field table truncated at byte ${String(at)} (need ${String(n)})`);
    }
    this.offset += n;
    return at;
  }

  slice(n: number): Buffer {
    const at = this.need(n);
    return this.buf.subarray(at, at + n);
  }

  table(end: number): DecodedTable {
    const out: DecodedTable = {};
    while (this.offset < end) {
      const klen = this.buf.readUInt8(this.need(1));
      const at = this.need(klen);
      const key = this.buf.toString('utf8', at, at + klen);
      out[key] = this.value();
    }
    return out;
  }

  value(): DecodedField {
    const b = this.buf;
    const tag = String.fromCharCode(b.readUInt8(this.need(1)));
    switch (tag) {
      case 'S': {
        const len = b.readUInt32BE(this.need(4));
        const at = this.need(len);
        return text(b, at, at + len);
      }
      case 'x':
        return Buffer.from(this.slice(b.readUInt32BE(this.need(4))));
      case 'b':
        return b.readInt8(this.need(1));
      case 'B':
        return b.readUInt8(this.need(1));
      case 's': // RabbitMQ's signed 16-bit (0-9-1 errata), as py-amqp reads it
      case 'U':
        return b.readInt16BE(this.need(2));
      case 'u':
        return b.readUInt16BE(this.need(2));
      case 'I':
        return b.readInt32BE(this.need(4));
      case 'i':
        return b.readUInt32BE(this.need(4));
      case 'L': // py-amqp writes signed 64-bit ints as 'L' (`pack('>cq', b'L', v)`)
      case 'l':
        return int64(b.readBigInt64BE(this.need(8)));
      case 'f':
        return double(b.readFloatBE(this.need(4)));
      case 'd':
        return double(b.readDoubleBE(this.need(8)));
      case 'D': {
        const places = b.readUInt8(this.need(1));
        const digits = b.readInt32BE(this.need(4));
        return { '!': 'decimal', value: { places, digits } };
      }
      case 'T':
        return { '!': 'timestamp', value: int64(b.readBigUInt64BE(this.need(8))) };
      case 'F': {
        const len = b.readUInt32BE(this.need(4));
        const end = this.offset + len;
        if (end > b.length) throw new RangeError('nested table longer than its frame');
        const t = this.table(end);
        if (this.offset !== end) throw new RangeError('nested table overran its length');
        return t;
      }
      case 'A': {
        const len = b.readUInt32BE(this.need(4));
        const end = this.offset + len;
        if (end > b.length) throw new RangeError('array longer than its frame');
        const out: DecodedField[] = [];
        while (this.offset < end) out.push(this.value());
        if (this.offset !== end) throw new RangeError('array overran its length');
        return out;
      }
      case 't':
        return b.readUInt8(this.need(1)) !== 0;
      case 'V':
        return null;
      default:
        throw new TypeError(
          `Unknown value in table: '${tag}' (0x${b[this.offset - 1]?.toString(16) ?? '??'})`,
        );
    }
  }
}

/** Decode a whole field table (the bytes after its 4-byte length); throws on bad input. */
export function decodeFieldTableStrict(slice: Buffer): DecodedTable {
  const r = new Reader(slice);
  return r.table(slice.length);
}

/**
 * amqplib's `decodeFields(slice)` signature: never throws, so one undecodable header table
 * cannot take the connection down; the failure travels with the table (see {@link UNDECODABLE}).
 */
export function decodeFields(slice: Buffer): DecodedTable {
  try {
    return decodeFieldTableStrict(slice);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    return { [UNDECODABLE]: reason };
  }
}

/** The reason a decoded table carries when it could not be decoded, else `undefined`. */
export function undecodableReason(table: unknown): string | undefined {
  if (typeof table !== 'object' || table === null) return undefined;
  const r = (table as Record<symbol, unknown>)[UNDECODABLE];
  return typeof r === 'string' ? r : undefined;
}
