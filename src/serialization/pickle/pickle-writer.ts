import { PicklingError } from '../../errors/pickle-errors';
import {
  isPyDict,
  PyDate,
  PyDateTime,
  PyDecimal,
  PyFloat,
  PyTime,
  PyUUID,
  type PyValue,
} from '../py-values';
import { dateTimeState } from './pickle-types';

/**
 * A pickle writer for the values Celery's ≤ 5.6 database backend stores through `sa.PickleType`
 * (`pickle.dumps(value, pickle.HIGHEST_PROTOCOL)`: protocol 5 on Python ≥ 3.8), laid out as
 * CPython's C pickler lays them out (`Modules/_pickle.c`: `save_dict`/`batch_dict` with SETITEM
 * for one item and SETITEMS per 1000, `batch_list` likewise with APPEND/APPENDS, MEMOIZE after
 * every str/bytes/list/dict, 64 KiB frames, payloads ≥ 64 KiB outside frames). Equal strings
 * are memoized once (CPython shares equal literals and JSON keys, then emits BINGET). JS arrays
 * are written as lists (Celery reads tuples and lists alike here). Pure.
 */

/** `callable(*args)` as GLOBAL + args tuple + REDUCE (what `__reduce__` pickles). */
export class PickleCall {
  constructor(
    readonly module: string,
    readonly name: string,
    readonly args: readonly unknown[],
  ) {}
}
/** A real tuple (JS arrays are written as lists). */
export class PickleTuple {
  constructor(readonly items: readonly unknown[]) {}
}
/** A bare global (a class passed as an argument). */
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
}
/**
 * A {@link PyValue}, or one of the classes above, possibly nested in lists/dicts (kept
 * non-recursive in the type: the writer checks every node at run time).
 */
export type PickleNode =
  | PyValue
  | PickleCall
  | PickleTuple
  | PickleGlobal
  | readonly unknown[]
  | Readonly<Record<string, unknown>>;

const FRAME_TARGET = 64 * 1024;
const FRAME_MIN = 4;
const BATCH = 1000;

class Out {
  private readonly chunks: Uint8Array[] = [];
  private frame: number[] | null = null;

  private ensureFrame(): number[] {
    this.frame ??= [];
    return this.frame;
  }
  write(bytes: ArrayLike<number>): void {
    const f = this.ensureFrame();
    for (const b of Array.from(bytes)) f.push(b);
  }
  /** `_Pickler_write_bytes`: a big payload is written unframed after committing the frame. */
  writeBig(header: ArrayLike<number>, payload: Uint8Array): void {
    if (payload.length < FRAME_TARGET) {
      this.write(header);
      this.write(payload);
      return;
    }
    this.commit();
    this.chunks.push(Uint8Array.from(header as number[]), Uint8Array.from(payload));
  }
  /** `_Pickler_CommitFrame`. */
  commit(): void {
    const f = this.frame;
    this.frame = null;
    if (f === null || f.length === 0) return;
    if (f.length >= FRAME_MIN) {
      const h = new Uint8Array(9);
      h[0] = 0x95;
      new DataView(h.buffer).setBigUint64(1, BigInt(f.length), true);
      this.chunks.push(h);
    }
    this.chunks.push(Uint8Array.from(f));
  }
  /** `_Pickler_OpcodeBoundary`. */
  boundary(): void {
    if (this.frame !== null && this.frame.length >= FRAME_TARGET) this.commit();
  }
  /** PROTO goes before the first frame (`dump`: framing starts after it). */
  raw(bytes: number[]): void {
    this.chunks.push(Uint8Array.from(bytes));
  }
  finish(): Uint8Array {
    this.commit();
    const total = this.chunks.reduce((n, c) => n + c.length, 0);
    const out = new Uint8Array(total);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

function le(n: number, width: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < width; i++) out.push(Number((BigInt(n) >> BigInt(8 * i)) & 0xffn));
  return out;
}

/** `encode_long`: minimal little-endian two's complement. */
function encodeLong(n: bigint): number[] {
  if (n === 0n) return [];
  const out: number[] = [];
  let v = n;
  for (;;) {
    out.push(Number(v & 0xffn));
    v >>= 8n;
    const last = out[out.length - 1] ?? 0;
    if ((v === 0n && (last & 0x80) === 0) || (v === -1n && (last & 0x80) !== 0)) break;
  }
  return out;
}

const utf8 = new TextEncoder();

class Writer {
  private readonly out = new Out();
  private readonly strings = new Map<string, number>();
  private memoSize = 0;

  private memoize(): void {
    this.out.write([0x94]);
    this.memoSize++;
  }

  private int(n: bigint): void {
    if (n >= 0n && n < 256n) this.out.write([0x4b, Number(n)]);
    else if (n >= 0n && n < 65536n) this.out.write([0x4d, ...le(Number(n), 2)]);
    else if (n >= -(2n ** 31n) && n < 2n ** 31n) this.out.write([0x4a, ...le(Number(n), 4)]);
    else {
      const b = encodeLong(n);
      if (b.length < 256) this.out.write([0x8a, b.length, ...b]);
      else this.out.write([0x8b, ...le(b.length, 4), ...b]);
    }
  }

  private float(f: number): void {
    const b = new Uint8Array(9);
    b[0] = 0x47;
    new DataView(b.buffer).setFloat64(1, f, false);
    this.out.write(b);
  }

  private str(s: string, ns = '\u0000d:'): void {
    // Module names, class names and data are different str objects in CPython: three memo
    // namespaces, so `datetime.datetime` writes `datetime` twice, as CPython does.
    const key = ns + s;
    const seen = this.strings.get(key);
    if (seen !== undefined) {
      this.out.write(seen < 256 ? [0x68, seen] : [0x6a, ...le(seen, 4)]);
      return;
    }
    const b = utf8.encode(s);
    if (b.length < 256) this.out.writeBig([0x8c, b.length], b);
    else if (b.length < 2 ** 32) this.out.writeBig([0x58, ...le(b.length, 4)], b);
    else this.out.writeBig([0x8d, ...le(b.length, 8)], b);
    this.strings.set(key, this.memoSize);
    this.memoize();
  }

  private bytes(b: Uint8Array): void {
    if (b.length < 256) this.out.writeBig([0x43, b.length], b);
    else if (b.length < 2 ** 32) this.out.writeBig([0x42, ...le(b.length, 4)], b);
    else this.out.writeBig([0x8e, ...le(b.length, 8)], b);
    this.memoize();
  }

  private global(module: string, name: string): void {
    this.str(module, '\u0000m:');
    this.str(name, '\u0000n:');
    this.out.write([0x93]);
    this.memoize();
  }

  private dateTime(iso: string): void {
    const { state, offset } = dateTimeState(iso);
    this.global('datetime', 'datetime');
    this.bytes(state);
    if (offset === null) {
      this.out.write([0x85]); // TUPLE1
    } else {
      // `datetime.timezone(timedelta(seconds=…))`; UTC is the `datetime.timezone.utc` singleton,
      // which pickles as `timezone(timedelta(0))` all the same.
      this.global('datetime', 'timezone');
      this.global('datetime', 'timedelta');
      const days = Math.floor(offset / 86400);
      this.int(BigInt(days));
      this.int(BigInt(offset - days * 86400));
      this.int(0n);
      this.out.write([0x87]); // TUPLE3
      this.memoize();
      this.out.write([0x52]);
      this.memoize();
      this.out.write([0x85]);
      this.memoize();
      this.out.write([0x52]);
      this.memoize();
      this.out.write([0x86]); // TUPLE2
    }
    this.memoize();
    this.out.write([0x52]);
    this.memoize();
  }

  private tuple(items: readonly unknown[], depth: number): void {
    if (items.length === 0) {
      this.out.write([0x29]);
      return;
    }
    if (items.length <= 3) {
      for (const x of items) this.save(x, depth + 1);
      this.out.write([0x84 + items.length]);
    } else {
      this.out.write([0x28]);
      for (const x of items) this.save(x, depth + 1);
      this.out.write([0x74]);
    }
    this.memoize();
  }

  save(v: unknown, depth = 0): void {
    if (depth > 1000) throw new PicklingError('value nested too deeply to pickle');
    if (v instanceof PickleCall) {
      this.global(v.module, v.name);
      this.tuple(v.args, depth);
      this.out.write([0x52]);
      this.memoize();
    } else if (v instanceof PickleTuple) this.tuple(v.items, depth);
    else if (v instanceof PickleGlobal) this.global(v.module, v.name);
    else if (v === null) this.out.write([0x4e]);
    else if (v === true) this.out.write([0x88]);
    else if (v === false) this.out.write([0x89]);
    else if (typeof v === 'number') {
      if (Number.isInteger(v) && !Object.is(v, -0)) this.int(BigInt(v));
      else this.float(v);
    } else if (typeof v === 'bigint') this.int(v);
    else if (typeof v === 'string') this.str(v);
    else if (v instanceof PyFloat) this.float(v.value);
    else if (v instanceof Uint8Array) this.bytes(v);
    else if (v instanceof PyDateTime) this.dateTime(v.iso);
    else if (v instanceof Date) this.dateTime(v.toISOString().replace('Z', '+00:00'));
    else if (v instanceof PyDecimal) {
      this.global('decimal', 'Decimal');
      this.str(v.value);
      this.out.write([0x85]);
      this.memoize();
      this.out.write([0x52]);
      this.memoize();
    } else if (v instanceof PyUUID || v instanceof PyDate || v instanceof PyTime) {
      this.str(v.toString());
    } else if (Array.isArray(v)) this.list(v as readonly unknown[], depth);
    else if (isPyDict(v)) this.dict(v, depth);
    else throw new PicklingError(`cannot pickle ${Object.prototype.toString.call(v)}`);
    this.out.boundary();
  }

  private list(items: readonly unknown[], depth: number): void {
    this.out.write([0x5d]);
    this.memoize();
    for (let i = 0; i < items.length; i += BATCH) {
      const batch = items.slice(i, i + BATCH);
      if (batch.length === 1) {
        this.save(batch[0] ?? null, depth + 1);
        this.out.write([0x61]);
      } else {
        this.out.write([0x28]);
        for (const x of batch) this.save(x, depth + 1);
        this.out.write([0x65]);
      }
    }
  }

  private dict(d: Readonly<Record<string, unknown>>, depth: number): void {
    this.out.write([0x7d]);
    this.memoize();
    const entries = Object.entries(d);
    for (let i = 0; i < entries.length; i += BATCH) {
      const batch = entries.slice(i, i + BATCH);
      if (batch.length === 1) {
        const [k, v] = batch[0] ?? ['', null];
        this.str(k);
        this.save(v, depth + 1);
        this.out.write([0x73]);
      } else {
        this.out.write([0x28]);
        for (const [k, v] of batch) {
          this.str(k);
          this.save(v, depth + 1);
        }
        this.out.write([0x75]);
      }
    }
  }

  run(v: unknown): Uint8Array {
    this.out.raw([0x80, 5]);
    this.save(v);
    this.out.write([0x2e]);
    return this.out.finish();
  }
}

/** `pickle.dumps(value, protocol=5)` for plain data (see the module comment for the layout). */
export function writePickle(value: PyValue): Uint8Array {
  return new Writer().run(value);
}

/** `pickle.dumps` of a tree with explicit calls/tuples/globals (see {@link PickleCall}). */
export function writePickleNode(node: PickleNode): Uint8Array {
  return new Writer().run(node);
}

/**
 * What Celery ≤ 5.6's `GroupResult.save()` stores in `celery_tasksetmeta.result`: the pickled
 * `GroupResult(id, [AsyncResult(id, backend, None, None, None)…])`, the backend reduced to
 * `unpickle_backend(DatabaseBackend, (), {'dburi', 'expires', 'engine_options'})`
 * (`DatabaseBackend.__reduce__`). `dburi` is the SQLAlchemy URL without `db+`.
 */
export function writeGroupResultPickle(
  groupId: string,
  childIds: readonly string[],
  backend: { dburi: string; expiresSeconds: number | null },
): Uint8Array {
  const exp = backend.expiresSeconds;
  const expires: PickleNode =
    exp === null
      ? null
      : new PickleCall('datetime', 'timedelta', [
          Math.floor(exp / 86400),
          Math.floor(exp % 86400),
          Math.round((exp % 1) * 1e6),
        ]);
  const be = new PickleCall('celery.backends.base', 'unpickle_backend', [
    new PickleGlobal('celery.backends.database', 'DatabaseBackend'),
    new PickleTuple([]),
    { dburi: backend.dburi, expires, engine_options: {} },
  ]);
  return writePickleNode(
    new PickleCall('celery.result', 'GroupResult', [
      groupId,
      childIds.map(
        (id) => new PickleCall('celery.result', 'AsyncResult', [id, be, null, null, null]),
      ),
    ]),
  );
}
