import { PyDecimal, isPyDict, type PyValue } from '../serialization/py-values';
import { PyTupleView, reprScalar, type ReprValue } from './repr';
import { fastSaferepr } from './saferepr-fast';

/*
 * A port of celery's streaming `saferepr` (`celery/utils/saferepr.py`, `saferepr`, `_saferepr`,
 * `reprstream`), kept token-for-token so that truncation at `maxlen` and the `maxlevels` cut-off
 * give exactly Python's text. Note that strings are NOT CPython reprs here: `_format_chars` always
 * uses single quotes, escapes only `'` and leaves newlines and non-ASCII text raw.
 */

class Lit {
  constructor(
    readonly value: string,
    readonly truncate: boolean,
    readonly direction: number,
  ) {}
}
class KeyTok {
  constructor(readonly value: string) {}
}
class Quoted {
  constructor(readonly value: string | Uint8Array) {}
}
class Text {
  constructor(readonly value: string) {}
}
/** Recursion bookkeeping in Python; here only skipped (PyValues cannot be cyclic via JSON). */
class Dirty {
  readonly dirty = true;
}

type Item = ReprValue | Lit | KeyTok | Quoted | Text | Dirty;
type Tok = Lit | KeyTok | Quoted | Text;

const DICT_START = new Lit('{', false, 1);
const DICT_KVSEP = new Lit(': ', true, 0);
const DICT_END = new Lit('}', false, -1);
const LIST_START = new Lit('[', false, 1);
const LIST_END = new Lit(']', false, -1);
const LIST_SEP = new Lit(', ', true, 0);
const TUPLE_START = new Lit('(', false, 1);
const TUPLE_END = new Lit(')', false, -1);
const TUPLE_END_SV = new Lit(',)', false, -1);

/** Python `len()` of text: code points, not UTF-16 units. */
function pyLen(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function pySlice(s: string, n: number): string {
  return Array.from(s).slice(0, n).join('');
}

/** `celery/utils/text.py`, `truncate`: note `>=` and the cut back to the last space. */
export function truncate(s: string, maxlen: number | undefined, suffix = '...'): string {
  if (maxlen && pyLen(s) >= maxlen) {
    const head = pySlice(s, maxlen);
    const i = head.lastIndexOf(' ');
    return (i >= 0 ? head.slice(0, i) : head) + suffix;
  }
  return s;
}

function reprBinaryBytes(b: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    return Buffer.from(b).toString('hex');
  }
}

/** `_format_chars` / `_format_binary_bytes`. */
function formatChars(v: string | Uint8Array, maxlen: number | undefined): string {
  if (typeof v === 'string') return `'${truncate(v, maxlen).replace(/'/g, "\\'")}'`;
  if (maxlen && v.length > maxlen) return `b'${reprBinaryBytes(v.subarray(0, maxlen))}...'`;
  return `b'${reprBinaryBytes(v)}'`;
}

function* chainList(items: readonly ReprValue[]): Generator<Item> {
  for (let i = 0; i < items.length; i++) {
    yield items[i] as ReprValue;
    if (i < items.length - 1) yield LIST_SEP;
  }
}

function* chainDict(d: Readonly<Record<string, PyValue>>): Generator<Item> {
  const entries = Object.entries(d);
  for (let i = 0; i < entries.length; i++) {
    const [k, v] = entries[i] ?? ['', null];
    yield new KeyTok(k);
    yield DICT_KVSEP;
    yield v;
    if (i < entries.length - 1) yield LIST_SEP;
  }
}

function* chain(...parts: Iterable<Item>[]): Generator<Item> {
  for (const p of parts) yield* p;
}

function* reprstream(stack: Iterator<Item>[], maxlevels: number): Generator<[Tok, Iterator<Item>]> {
  let level = 0;
  while (stack.length) {
    const it = stack.shift();
    if (!it) break;
    for (let r = it.next(); r.done !== true; r = it.next()) {
      const val = r.value;
      if (val instanceof Dirty) continue;
      if (val instanceof Lit) {
        level += val.direction;
        yield [val, it];
        continue;
      }
      if (val instanceof KeyTok || val instanceof Quoted || val instanceof Text) {
        yield [val, it];
        continue;
      }
      if (typeof val === 'string' || val instanceof Uint8Array) {
        yield [new Quoted(val), it];
        continue;
      }
      let start: Lit;
      let end: Lit;
      let inner: Iterable<Item>;
      if (val instanceof PyTupleView) {
        [start, end, inner] = [
          TUPLE_START,
          val.items.length === 1 ? TUPLE_END_SV : TUPLE_END,
          chainList(val.items),
        ];
      } else if (Array.isArray(val)) {
        [start, end, inner] = [LIST_START, LIST_END, chainList(val as readonly PyValue[])];
      } else if (isPyDict(val)) {
        [start, end, inner] = [DICT_START, DICT_END, chainDict(val)];
      } else {
        // Decimal → repr; Number (incl. bool) → str(); everything else → repr().
        const text =
          val instanceof PyDecimal ? `Decimal('${val.value}')` : (reprScalar(val) ?? 'None');
        yield [new Text(text), it];
        continue;
      }
      if (maxlevels && level >= maxlevels) {
        yield [new Lit(`${start.value}...${end.value}`, false, 0), it];
        continue;
      }
      stack.push(chain([start], inner, [new Dirty(), end], { [Symbol.iterator]: () => it }));
      break;
    }
  }
}

/** Options of {@link saferepr}. */
export interface SafeReprOptions {
  /** Truncate the output near this many characters (`None` in Python = no limit). */
  maxlen?: number;
  /** Nesting depth shown before `[...]`; Celery's default 3 (`task_repr_maxlevels` in 5.7). */
  maxlevels?: number;
}

/**
 * celery `saferepr(o, maxlen, maxlevels)`. Arrays print as lists; wrap in {@link PyTupleView} for a
 * tuple, as for task args (`saferepr(args, 1024)` where args is a tuple).
 */
export function saferepr(o: ReprValue, opts: SafeReprOptions = {}): string {
  // Most task arguments are short: render them directly (same text, see saferepr-fast.ts).
  return fastSaferepr(o, opts.maxlen, opts.maxlevels ?? 3) ?? streamingSaferepr(o, opts);
}

/** {@link saferepr} always through the token-for-token streaming port (the reference). */
export function streamingSaferepr(o: ReprValue, opts: SafeReprOptions = {}): string {
  const maxlevels = opts.maxlevels ?? 3;
  let maxlen = opts.maxlen;
  const stack: Iterator<Item>[] = [[o][Symbol.iterator]() as Iterator<Item>];
  const out: string[] = [];
  for (const [token, it] of reprstream(stack, maxlevels)) {
    if (maxlen !== undefined && maxlen <= 0) {
      if (token instanceof Lit && token.direction < 0) {
        out.push(token.value);
        continue;
      }
      out.push(', ...');
      stack.push(chain([token], { [Symbol.iterator]: () => it }));
      break;
    }
    let val: string;
    if (token instanceof Lit) val = token.value;
    else if (token instanceof KeyTok)
      val = saferepr(token.value, { ...opts, ...(maxlen === undefined ? {} : { maxlen }) });
    else if (token instanceof Quoted) val = formatChars(token.value, maxlen);
    else val = truncate(token.value, maxlen);
    out.push(val);
    if (maxlen !== undefined) maxlen -= pyLen(val);
  }
  let depth = 0;
  for (const rest1 of stack) {
    for (let r = rest1.next(); r.done !== true; r = rest1.next()) {
      const rest2 = r.value;
      if (rest2 instanceof Lit && !rest2.truncate) {
        depth += rest2.direction;
        if (depth < 0) {
          depth = 0;
          out.push(rest2.value);
        }
      }
    }
  }
  return out.join('');
}

/** `argsrepr` as `as_task_v2` writes it: `saferepr(tuple(args), 1024)`. */
export function argsRepr(args: readonly PyValue[], maxlevels = 3): string {
  return saferepr(new PyTupleView(args), { maxlen: 1024, maxlevels });
}

/** `kwargsrepr`: `saferepr(kwargs, 1024)`. */
export function kwargsRepr(kwargs: Readonly<Record<string, PyValue>>, maxlevels = 3): string {
  return saferepr(kwargs, { maxlen: 1024, maxlevels });
}
