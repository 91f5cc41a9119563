import { UnpicklingError } from '../../errors/pickle-errors';
import { PyDate, PyDateTime, PyDecimal, PyFloat, PyTime, type PyValue } from '../py-values';
import { isAllowedException, pyDateTimeIso, pyDateIso, pyTimeIso } from './pickle-types';
import { decodeLong, opName } from './pickle-opcodes';

/**
 * A safe reader for the pickles Celery's SQLAlchemy backend stores (`sa.PickleType` columns of
 * `celery/backends/database/models.py` up to Celery 5.6, and `pickle.loads` of legacy rows in
 * 5.7's `_decode_stored_result`). It is an interpreter of the pickle *data* opcodes only: no
 * global is ever looked up or called. The only globals accepted are `datetime.datetime/date/time/
 * timedelta/timezone`, `decimal.Decimal` and exception classes (as `BaseException.__reduce__`
 * writes them); an exception becomes Celery's exception dict `{exc_type, exc_message, exc_module}`
 * (what `prepare_exception` stores for non-pickle serializers), so `exception_to_python`-style
 * rebuilding works unchanged. Anything else is an {@link UnpicklingError} naming the opcode or
 * global. Opcode values: CPython `Lib/pickle.py`.
 */

/** A refused-until-reduced global: `module.name`. */
class Global {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
}

/** `datetime.timedelta` / `datetime.timezone` while building a tz-aware datetime. */
class Delta {
  constructor(readonly seconds: number) {}
}
class Zone {
  constructor(readonly offsetSeconds: number) {}
}

/** An exception instance, kept as Celery's exception dict. */
class ExcValue {
  constructor(readonly dict: { exc_type: string; exc_message: PyValue[]; exc_module: string }) {}
}

/** A result backend object (`unpickle_backend(...)`): recorded, never built. */
class BackendRef {
  readonly kind = 'backend';
}

type Item = PyValue | Global | Delta | Zone | ExcValue | BackendRef;

/**
 * Celery objects a ≤ 5.6 database row pickles: `GroupResult.save()` pickles the GroupResult
 * itself (`GroupResult.__reduce_args__` = `(id, results)`, each `AsyncResult` reducing to
 * `(id, backend, task_name, app, parent)` and the backend to `unpickle_backend(cls, (), kwargs)`).
 * They are read as the tuples `as_tuple()` gives, the same value 5.7 stores.
 */
const CELERY_GLOBALS = new Set([
  'celery.result.GroupResult',
  'celery.result.AsyncResult',
  'celery.backends.base.unpickle_backend',
]);
const BACKEND_CLASS = /^celery\.backends\.[a-z_.]+\.[A-Za-z]+Backend$/;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Read one pickle; `what` names the value in errors (e.g. `celery_taskmeta.result of <id>`). */
export function readPickle(data: Uint8Array, what = 'pickle'): PyValue {
  return new Reader(data, what).run();
}

class Reader {
  private pos = 0;
  private stack: Item[] = [];
  private readonly marks: Item[][] = [];
  private readonly memo = new Map<number, Item>();
  private opAt = 0;
  private op = 0;
  private readonly view: DataView;

  constructor(
    private readonly data: Uint8Array,
    private readonly what: string,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  private fail(message: string, extra: { global?: string } = {}): never {
    throw new UnpicklingError(`${this.what}: ${message} at byte ${this.opAt}`, {
      offset: this.opAt,
      opcode: opName(this.op),
      ...extra,
    });
  }

  private take(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.data.length) this.fail(`truncated data in ${opName(this.op)}`);
    const out = this.data.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  private u8(): number {
    return this.take(1)[0] ?? 0;
  }
  private u16(): number {
    if (this.pos + 2 > this.data.length) this.fail('truncated data');
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  private u32(): number {
    if (this.pos + 4 > this.data.length) this.fail('truncated data');
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  private u64(): number {
    if (this.pos + 8 > this.data.length) this.fail('truncated data');
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(this.data.length)) this.fail('length beyond the data');
    return Number(v);
  }

  private pop(): Item {
    if (this.stack.length === 0) this.fail(`stack underflow in ${opName(this.op)}`);
    return this.stack.pop() as Item;
  }
  private popMark(): Item[] {
    const items = this.stack;
    const prev = this.marks.pop();
    if (prev === undefined) this.fail(`no MARK for ${opName(this.op)}`);
    this.stack = prev;
    return items;
  }
  private top(): Item {
    const t = this.stack[this.stack.length - 1];
    if (t === undefined) this.fail(`stack underflow in ${opName(this.op)}`);
    return t;
  }
  private value(x: Item): PyValue {
    if (x instanceof ExcValue) return x.dict;
    // PyValue has no timedelta: its total seconds (`timedelta.total_seconds()`), a float.
    if (x instanceof Delta) return Number.isInteger(x.seconds) ? new PyFloat(x.seconds) : x.seconds;
    if (x instanceof Global || x instanceof Zone || x instanceof BackendRef)
      this.fail('a non-data object where a value belongs');
    return x;
  }
  private key(x: Item): string {
    if (typeof x !== 'string') this.fail('a dict key that is not a str');
    return x;
  }
  private setItems(dict: Item, items: Item[]): void {
    if (typeof dict !== 'object' || dict === null || Array.isArray(dict) || !isPlain(dict))
      this.fail('SETITEM(S) on something that is not a dict');
    if (items.length % 2 !== 0) this.fail('odd number of items for SETITEMS');
    const d = dict as Record<string, PyValue>;
    for (let i = 0; i < items.length; i += 2) {
      const k = this.key(items[i] as Item);
      const v = this.value(items[i + 1] as Item);
      // Own property even for `__proto__`: plain data, never a prototype change.
      Object.defineProperty(d, k, {
        value: v,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  private appendTo(list: Item, items: Item[]): void {
    if (!Array.isArray(list) || Object.isFrozen(list))
      this.fail('APPEND(S) on something that is not a list');
    (list as PyValue[]).push(...items.map((x) => this.value(x)));
  }

  private str(n: number): string {
    try {
      return utf8.decode(this.take(n));
    } catch (e) {
      if (e instanceof UnpicklingError) throw e;
      return this.fail('invalid UTF-8 in a str');
    }
  }

  /** `find_class` + REDUCE restricted to data types and exceptions. */
  private reduce(callable: Item, args: Item): Item {
    if (!(callable instanceof Global)) this.fail('REDUCE of a non-global');
    if (!Array.isArray(args)) this.fail('REDUCE arguments are not a tuple');
    const a = args as Item[];
    const full = `${callable.module}.${callable.name}`;
    const bytesArg = (): Uint8Array => {
      const b = a[0];
      if (!(b instanceof Uint8Array)) this.fail(`${full} state is not bytes`);
      return b;
    };
    const zone = (): number | null | undefined => {
      if (a.length < 2) return null;
      const z = a[1];
      if (z instanceof Zone) return z.offsetSeconds;
      return undefined;
    };
    switch (full) {
      case 'datetime.datetime': {
        const off = zone();
        if (off === undefined)
          this.fail('datetime tzinfo other than datetime.timezone', { global: full });
        return new PyDateTime(pyDateTimeIso(bytesArg(), off, (m) => this.fail(m)));
      }
      case 'datetime.date':
        return new PyDate(pyDateIso(bytesArg(), (m) => this.fail(m)));
      case 'datetime.time': {
        const off = zone();
        if (off === undefined)
          this.fail('time tzinfo other than datetime.timezone', { global: full });
        return new PyTime(pyTimeIso(bytesArg(), off, (m) => this.fail(m)));
      }
      case 'datetime.timedelta': {
        const [d, s, us] = a.map((x) => (typeof x === 'number' ? x : NaN));
        const secs = (d ?? 0) * 86400 + (s ?? 0) + (us ?? 0) / 1e6;
        if (!Number.isFinite(secs)) this.fail('timedelta arguments are not ints');
        return new Delta(secs);
      }
      case 'datetime.timezone': {
        const d = a[0];
        if (!(d instanceof Delta)) this.fail('timezone offset is not a timedelta');
        return new Zone(d.seconds);
      }
      case 'celery.backends.base.unpickle_backend':
        if (!(a[0] instanceof Global) || !BACKEND_CLASS.test(`${a[0].module}.${a[0].name}`))
          this.fail('unpickle_backend of something that is not a Celery backend', { global: full });
        return new BackendRef();
      case 'celery.result.AsyncResult': {
        const id = a[0];
        if (typeof id !== 'string') this.fail('AsyncResult id is not a str', { global: full });
        const parent = a[4] ?? null;
        return [[id, parent instanceof BackendRef ? null : this.value(parent)], null];
      }
      case 'celery.result.GroupResult': {
        const id = a[0];
        const results = a[1] ?? null;
        if (typeof id !== 'string' || !Array.isArray(results))
          this.fail('GroupResult arguments are not (id, results)', { global: full });
        return [[id, null], (results as Item[]).map((r) => this.value(r))];
      }
      case 'decimal.Decimal': {
        const s = a[0];
        if (typeof s !== 'string' || a.length !== 1) this.fail('Decimal argument is not a str');
        return new PyDecimal(s);
      }
    }
    if (!isAllowedException(callable.module, callable.name))
      this.fail(`global ${full} is not allowed`, { global: full });
    return new ExcValue({
      exc_type: callable.name,
      exc_message: a.map((x) => this.value(x)),
      exc_module: callable.module,
    });
  }

  private global(module: string, name: string): Global {
    const full = `${module}.${name}`;
    const ok =
      ['datetime.datetime', 'datetime.date', 'datetime.time', 'datetime.timedelta'].includes(
        full,
      ) ||
      ['datetime.timezone', 'decimal.Decimal'].includes(full) ||
      CELERY_GLOBALS.has(full) ||
      BACKEND_CLASS.test(full) ||
      isAllowedException(module, name);
    if (!ok) this.fail(`global ${full} is not allowed`, { global: full });
    return new Global(module, name);
  }

  run(): PyValue {
    for (;;) {
      this.opAt = this.pos;
      this.op = this.u8();
      const op = this.op;
      switch (op) {
        case 0x80: // PROTO
          if (this.u8() > 5) this.fail('unsupported pickle protocol');
          break;
        case 0x95: // FRAME: the length is informational for a reader holding all bytes
          this.u64();
          break;
        case 0x2e: {
          // STOP
          const v = this.pop();
          if (this.stack.length !== 0 || this.marks.length !== 0)
            this.fail('data left on the stack at STOP');
          return this.value(v);
        }
        case 0x28:
          this.marks.push(this.stack);
          this.stack = [];
          break;
        case 0x30:
          this.pop();
          break;
        case 0x31:
          this.popMark();
          break;
        case 0x32:
          this.stack.push(this.top());
          break;
        case 0x4e:
          this.stack.push(null);
          break;
        case 0x88:
          this.stack.push(true);
          break;
        case 0x89:
          this.stack.push(false);
          break;
        case 0x4a:
          if (this.pos + 4 > this.data.length) this.fail('truncated BININT');
          this.stack.push(this.view.getInt32(this.pos, true));
          this.pos += 4;
          break;
        case 0x4b:
          this.stack.push(this.u8());
          break;
        case 0x4d:
          this.stack.push(this.u16());
          break;
        case 0x8a:
          this.stack.push(decodeLong(this.take(this.u8())));
          break;
        case 0x8b: {
          if (this.pos + 4 > this.data.length) this.fail('truncated LONG4');
          const n = this.view.getInt32(this.pos, true);
          this.pos += 4;
          if (n < 0) this.fail('negative LONG4 length');
          this.stack.push(decodeLong(this.take(n)));
          break;
        }
        case 0x47: {
          if (this.pos + 8 > this.data.length) this.fail('truncated BINFLOAT');
          const f = this.view.getFloat64(this.pos, false);
          this.pos += 8;
          this.stack.push(Number.isInteger(f) || Object.is(f, -0) ? new PyFloat(f) : f);
          break;
        }
        case 0x8c:
          this.stack.push(this.str(this.u8()));
          break;
        case 0x58:
          this.stack.push(this.str(this.u32()));
          break;
        case 0x8d:
          this.stack.push(this.str(this.u64()));
          break;
        case 0x43:
          this.stack.push(Uint8Array.from(this.take(this.u8())));
          break;
        case 0x42:
          this.stack.push(Uint8Array.from(this.take(this.u32())));
          break;
        case 0x8e:
          this.stack.push(Uint8Array.from(this.take(this.u64())));
          break;
        case 0x7d:
          this.stack.push(Object.create(null) as Record<string, PyValue>);
          break;
        case 0x5d:
          this.stack.push([]);
          break;
        case 0x29:
          this.stack.push(Object.freeze([]));
          break;
        case 0x85:
        case 0x86:
        case 0x87: {
          const n = op - 0x84;
          if (this.stack.length < n) this.fail(`stack underflow in ${opName(op)}`);
          const items = this.stack.splice(this.stack.length - n, n);
          this.stack.push(Object.freeze(items) as unknown as PyValue);
          break;
        }
        case 0x74: {
          // TUPLE (pop first: `this.stack` is replaced by popMark)
          const items = Object.freeze(this.popMark()) as unknown as PyValue;
          this.stack.push(items);
          break;
        }
        case 0x6c: {
          const items = this.popMark().map((x) => this.value(x));
          this.stack.push(items);
          break;
        }
        case 0x64: {
          // DICT
          const d = Object.create(null) as Record<string, PyValue>;
          this.setItems(d, this.popMark());
          this.stack.push(d);
          break;
        }
        case 0x61: {
          const v = this.pop();
          this.appendTo(this.top(), [v]);
          break;
        }
        case 0x65: {
          const items = this.popMark();
          this.appendTo(this.top(), items);
          break;
        }
        case 0x73: {
          const v = this.pop();
          const k = this.pop();
          this.setItems(this.top(), [k, v]);
          break;
        }
        case 0x75: {
          const items = this.popMark();
          this.setItems(this.top(), items);
          break;
        }
        case 0x94:
          this.memo.set(this.memo.size, this.top());
          break;
        case 0x71:
          this.memo.set(this.u8(), this.top());
          break;
        case 0x72:
          this.memo.set(this.u32(), this.top());
          break;
        case 0x68:
        case 0x6a: {
          const i = op === 0x68 ? this.u8() : this.u32();
          const v = this.memo.get(i);
          if (v === undefined) this.fail(`memo key ${i} not found`);
          this.stack.push(v);
          break;
        }
        case 0x63: {
          // GLOBAL "module\nname\n"
          const line = (): string => {
            const nl = this.data.indexOf(0x0a, this.pos);
            if (nl < 0) this.fail('truncated GLOBAL');
            return this.str(nl - this.pos + 1).slice(0, -1);
          };
          const module = line();
          this.stack.push(this.global(module, line()));
          break;
        }
        case 0x93: {
          const name = this.pop();
          const module = this.pop();
          if (typeof module !== 'string' || typeof name !== 'string')
            this.fail('STACK_GLOBAL names are not str');
          this.stack.push(this.global(module, name));
          break;
        }
        case 0x52: {
          const args = this.pop();
          const callable = this.pop();
          this.stack.push(this.reduce(callable, args));
          break;
        }
        case 0x62: {
          // BUILD: only an exception's `__dict__` (custom attributes), which Celery's
          // exception dict does not carry either.
          this.pop();
          if (!(this.top() instanceof ExcValue))
            this.fail('BUILD on something that is not an exception');
          break;
        }
        default:
          this.fail(`opcode ${opName(op)} is not allowed`);
      }
    }
  }
}

function isPlain(o: object): boolean {
  const p = Object.getPrototypeOf(o) as unknown;
  return p === null || p === Object.prototype;
}
