/**
 * How Python values are represented in JavaScript, losslessly.
 *
 * Celery payloads are Python values. Most map onto JavaScript natively; the ones that do not get
 * a small wrapper class instead of a silent approximation:
 *
 * | Python                      | JavaScript                                                   |
 * |-----------------------------|--------------------------------------------------------------|
 * | `None`, `True`, `False`     | `null`, `true`, `false`                                      |
 * | `int` within ±(2^53 − 1)    | `number`                                                     |
 * | `int` outside that range    | `bigint` (never rounded)                                     |
 * | `float`, non-integral       | `number` (`NaN`, `±Infinity` included)                       |
 * | `float`, integral (`1.0`)   | {@link PyFloat} (so it is re-sent as `1.0`, not `1`)         |
 * | `str`                       | `string`                                                     |
 * | `bytes`                     | `Uint8Array` (a `Buffer` on decode)                          |
 * | `list`, `tuple`             | `Array`                                                      |
 * | `dict` with str keys        | plain object (insertion order kept for non-index-like keys)  |
 * | `datetime.datetime`         | {@link PyDateTime} (µs and offset/naivety kept)              |
 * | `datetime.date` / `time`    | {@link PyDate} / {@link PyTime}                              |
 * | `decimal.Decimal`           | {@link PyDecimal} (exact text)                               |
 * | `uuid.UUID`                 | {@link PyUUID}                                               |
 *
 * On encode, a JavaScript `Date` is accepted too and sent as an aware UTC `datetime`; an integral
 * `number` is sent as a Python `int`.
 */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyFloat
  | PyDateTime
  | PyDate
  | PyTime
  | PyDecimal
  | PyUUID
  | Date
  | readonly PyValue[]
  | { readonly [key: string]: PyValue };

/** A Python `float` whose value is integral (`1.0`, `-0.0`, `1e+16`), kept distinct from `int`. */
export class PyFloat {
  constructor(readonly value: number) {}
  valueOf(): number {
    return this.value;
  }
  toJSON(): number {
    return this.value;
  }
}

const DATETIME_RE =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2}(?::?\d{2}(?:\.\d+)?)?)?$/;

/**
 * A Python `datetime.datetime`, held as its exact `isoformat()` text so that microseconds,
 * the UTC offset and naivety survive a round trip.
 */
export class PyDateTime {
  /** Python `isoformat()` text, e.g. `2024-01-02T03:04:05.678901+00:00`. */
  readonly iso: string;
  constructor(iso: string) {
    if (!DATETIME_RE.test(iso)) throw new RangeError(`not an ISO-8601 datetime: ${iso}`);
    this.iso = iso;
  }
  /** True when the text carries no offset (Celery reads naive values as UTC). */
  get naive(): boolean {
    const m = DATETIME_RE.exec(this.iso);
    return m?.[8] === undefined;
  }
  /** The instant, to millisecond precision; naive values are read as UTC, as Celery does. */
  toDate(): Date {
    return new Date(this.naive ? `${this.iso}Z` : this.iso);
  }
  toJSON(): string {
    return this.iso;
  }
  toString(): string {
    return this.iso;
  }
}

/** A Python `datetime.date` (`YYYY-MM-DD`). */
export class PyDate {
  constructor(readonly iso: string) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(iso)) throw new RangeError(`not an ISO-8601 date: ${iso}`);
  }
  toJSON(): string {
    return this.iso;
  }
  toString(): string {
    return this.iso;
  }
}

/** A Python `datetime.time` (`HH:MM:SS[.ffffff][+HH:MM]`). */
export class PyTime {
  constructor(readonly iso: string) {
    if (!/^\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([+-]\d{2}:\d{2})?$/.test(iso)) {
      throw new RangeError(`not an ISO-8601 time: ${iso}`);
    }
  }
  toJSON(): string {
    return this.iso;
  }
  toString(): string {
    return this.iso;
  }
}

/** A Python `decimal.Decimal`, as its exact `str()` text. */
export class PyDecimal {
  constructor(readonly value: string) {
    if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$|^[+-]?(Infinity|inf|NaN|sNaN)$/i.test(value)) {
      throw new RangeError(`not a decimal: ${value}`);
    }
  }
  toJSON(): string {
    return this.value;
  }
  toString(): string {
    return this.value;
  }
}

/** A Python `uuid.UUID`, held as 32 lowercase hex digits. */
export class PyUUID {
  readonly hex: string;
  constructor(value: string) {
    const hex = value.replace(/-/g, '').toLowerCase();
    if (!/^[0-9a-f]{32}$/.test(hex)) throw new RangeError(`not a UUID: ${value}`);
    this.hex = hex;
  }
  /** Canonical hyphenated form, as Python's `str(uuid)`. */
  toString(): string {
    const h = this.hex;
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  toJSON(): string {
    return this.toString();
  }
}

/** A plain (non-array, non-wrapper) object: a Python dict. */
export function isPyDict(v: unknown): v is Record<string, PyValue> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}
