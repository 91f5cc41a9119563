/**
 * A lossless JSON parser with CPython's `json.loads` semantics (`Lib/json/scanner.py`,
 * `Lib/json/decoder.py`): NaN/Infinity/-Infinity tokens, arbitrary-precision ints (bigint beyond
 * ±(2^53 − 1)), integral float literals kept as {@link PyFloat}, raw control characters in strings
 * rejected (strict mode), duplicate keys last-wins, and kombu's `object_hook` applied bottom-up.
 */
import { DecodeError } from '../errors/errors';
import { reviveEnvelope } from './json-envelope';
import { needsExactParser } from './json-fast-scan';
import type { PyValue } from './py-values';
import { PyFloat } from './py-values';

const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

class Parser {
  pos = 0;
  constructor(private readonly text: string) {}

  fail(msg: string, at: number = this.pos): never {
    // Same wording and position layout as json.JSONDecodeError.
    const before = this.text.slice(0, at);
    const line = before.split('\n').length;
    const col = at - before.lastIndexOf('\n');
    throw new DecodeError(`${msg}: line ${line} column ${col} (char ${at})`);
  }

  skipWs(): void {
    const t = this.text;
    let p = this.pos;
    for (;;) {
      const c = t.charCodeAt(p);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
      else break;
    }
    this.pos = p;
  }

  value(): PyValue {
    const t = this.text;
    const c = t.charCodeAt(this.pos);
    switch (c) {
      case 0x22: // "
        return this.string();
      case 0x7b: // {
        return this.object();
      case 0x5b: // [
        return this.array();
      case 0x6e: // n
        return this.literal('null', null);
      case 0x74: // t
        return this.literal('true', true);
      case 0x66: // f
        return this.literal('false', false);
      case 0x4e: // N
        return this.literal('NaN', NaN);
      case 0x49: // I
        return this.literal('Infinity', Infinity);
      default:
        if (c === 0x2d && t.startsWith('-Infinity', this.pos)) {
          this.pos += 9;
          return -Infinity;
        }
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
        return this.fail('Expecting value');
    }
  }

  literal<T extends PyValue>(word: string, v: T): T {
    if (!this.text.startsWith(word, this.pos)) this.fail('Expecting value');
    this.pos += word.length;
    return v;
  }

  number(): PyValue {
    // NUMBER_RE = r'(-?(?:0|[1-9]\d*))(\.\d+)?([eE][-+]?\d+)?'
    const t = this.text;
    const start = this.pos;
    let p = start;
    if (t.charCodeAt(p) === 0x2d) p++;
    const intStart = p;
    let c = t.charCodeAt(p);
    if (c === 0x30) p++;
    else if (c >= 0x31 && c <= 0x39) {
      do c = t.charCodeAt(++p);
      while (c >= 0x30 && c <= 0x39);
    } else this.fail('Expecting value', start);
    let isFloat = false;
    if (t.charCodeAt(p) === 0x2e) {
      const q = p + 1;
      let r = q;
      while ((c = t.charCodeAt(r)) >= 0x30 && c <= 0x39) r++;
      if (r > q) {
        isFloat = true;
        p = r;
      }
    }
    c = t.charCodeAt(p);
    if (c === 0x65 || c === 0x45) {
      let q = p + 1;
      c = t.charCodeAt(q);
      if (c === 0x2b || c === 0x2d) q++;
      let r = q;
      while ((c = t.charCodeAt(r)) >= 0x30 && c <= 0x39) r++;
      if (r > q) {
        isFloat = true;
        p = r;
      }
    }
    this.pos = p;
    const lit = t.slice(start, p);
    const n = Number(lit);
    if (isFloat) return Number.isInteger(n) ? new PyFloat(n) : n;
    if (p - intStart < 16 || Number.isSafeInteger(n)) return n === 0 ? 0 : n;
    return BigInt(lit);
  }

  string(): string {
    const t = this.text;
    const start = this.pos; // at the opening quote
    let p = start + 1;
    // Fast path: no escapes and no control characters.
    for (;;) {
      const c = t.charCodeAt(p);
      if (c === 0x22) {
        this.pos = p + 1;
        return t.slice(start + 1, p);
      }
      if (c === 0x5c || c < 0x20 || p >= t.length) break;
      p++;
    }
    let out = t.slice(start + 1, p);
    for (;;) {
      if (p >= t.length) this.fail('Unterminated string starting at', start);
      const c = t.charCodeAt(p);
      if (c === 0x22) {
        this.pos = p + 1;
        return out;
      }
      if (c < 0x20) this.fail('Invalid control character at', p);
      if (c !== 0x5c) {
        let q = p + 1;
        let d: number;
        while (q < t.length && (d = t.charCodeAt(q)) !== 0x22 && d !== 0x5c && d >= 0x20) q++;
        out += t.slice(p, q);
        p = q;
        continue;
      }
      const e = t.charAt(p + 1);
      if (e === 'u') {
        out += String.fromCharCode(this.hex4(p));
        p += 6;
      } else {
        const rep = ESCAPES[e];
        if (rep === undefined) {
          if (p + 1 >= t.length) this.fail('Unterminated string starting at', start);
          this.fail('Invalid \\escape', p);
        }
        out += rep;
        p += 2;
      }
    }
  }

  hex4(at: number): number {
    const h = this.text.slice(at + 2, at + 6);
    if (!/^[0-9a-fA-F]{4}$/.test(h)) this.fail('Invalid \\uXXXX escape', at + 1);
    return parseInt(h, 16);
  }

  array(): PyValue[] {
    const out: PyValue[] = [];
    this.pos++;
    this.skipWs();
    if (this.text.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.skipWs();
      const c = this.text.charCodeAt(this.pos);
      this.pos++;
      if (c === 0x5d) return out;
      if (c !== 0x2c) this.fail("Expecting ',' delimiter", this.pos - 1);
      this.skipWs();
    }
  }

  object(): PyValue {
    const t = this.text;
    const out: Record<string, PyValue> = {};
    const objStart = this.pos;
    this.pos++;
    this.skipWs();
    if (t.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return out;
    }
    let hasType = false;
    for (;;) {
      if (t.charCodeAt(this.pos) !== 0x22) {
        this.fail('Expecting property name enclosed in double quotes');
      }
      const key = this.string();
      this.skipWs();
      if (t.charCodeAt(this.pos) !== 0x3a) this.fail("Expecting ':' delimiter");
      this.pos++;
      this.skipWs();
      const v = this.value();
      if (key === '__proto__') {
        Object.defineProperty(out, key, { value: v, enumerable: true, writable: true });
      } else out[key] = v;
      if (key === '__type__') hasType = true;
      this.skipWs();
      const c = t.charCodeAt(this.pos);
      this.pos++;
      if (c === 0x7d) break;
      if (c !== 0x2c) this.fail("Expecting ',' delimiter", this.pos - 1);
      this.skipWs();
    }
    // kombu/utils/json.py, object_hook: exactly the keys {"__type__", "__value__"}.
    if (hasType && '__value__' in out) {
      const keys = Object.keys(out);
      if (keys.length === 2) {
        try {
          return reviveEnvelope(out.__type__ ?? null, out.__value__ ?? null);
        } catch (e) {
          if (e instanceof DecodeError) {
            throw new DecodeError(`${e.message} (object at char ${objStart})`, { cause: e });
          }
          throw e;
        }
      }
    }
    return out;
  }
}

/** Parse Python-`json` text into {@link PyValue}s; every failure is a {@link DecodeError}. */
export function parsePyJson(text: string): PyValue {
  // Fast path: unless the text has a token the native parser reads differently (see
  // json-fast-scan.ts), it yields exactly the same values.
  if (!needsExactParser(text)) {
    try {
      return JSON.parse(text) as PyValue;
    } catch {
      // Fall through: the exact parser reports the error the way CPython does.
    }
  }
  return parsePyJsonExact(text);
}

/** {@link parsePyJson} without the native fast path: the character-level reference parser. */
export function parsePyJsonExact(text: string): PyValue {
  const p = new Parser(text);
  try {
    p.skipWs();
    const v = p.value();
    p.skipWs();
    if (p.pos !== text.length) p.fail('Extra data');
    return v;
  } catch (e) {
    if (e instanceof DecodeError) throw e;
    // Deep nesting overflows the stack, as CPython raises RecursionError.
    throw new DecodeError('JSON nested too deeply', { cause: e });
  }
}
