import { PyDecimal, isPyDict, type PyValue } from '../serialization/py-values';
import { PyTupleView, reprScalar, type ReprValue } from './repr';

/*
 * A direct (recursive, non-generator) rendering of celery's `saferepr` for the case where the
 * `maxlen` budget can never bite (`celery/utils/saferepr.py`, `_saferepr`). The streaming port in
 * `saferepr.ts` only deviates from a plain concatenation of its tokens when a token's length
 * reaches the remaining budget (`truncate` uses `>=`) or the budget drops to 0. If the whole
 * output is shorter than `maxlen`, every token is shorter than the budget left when it is
 * emitted, so neither can happen and the concatenation IS the streaming result. The `maxlevels`
 * cut-off does not depend on the budget and is applied here exactly as `reprstream` does.
 *
 * Bytes are left to the streaming port: `_format_binary_bytes` compares the byte count (not the
 * printed length) with the budget, so the argument above does not hold for them.
 */

/** Marker: the value holds something only the streaming port renders exactly. */
const UNSUPPORTED = Symbol('unsupported');

function quote(s: string): string {
  // `_format_chars`: always single quotes, only `'` escaped.
  return s.includes("'") ? `'${s.replace(/'/g, "\\'")}'` : `'${s}'`;
}

function cut(start: string, end: string): string {
  return `${start}...${end}`;
}

function renderSeq(
  items: readonly ReprValue[],
  start: string,
  end: string,
  depth: number,
  maxlevels: number,
): string | typeof UNSUPPORTED {
  if (maxlevels && depth >= maxlevels) return cut(start, end);
  const n = items.length;
  let out = start;
  for (let i = 0; i < n; i++) {
    const r = render(items[i] as ReprValue, depth + 1, maxlevels);
    if (r === UNSUPPORTED) return r;
    out += i === 0 ? r : `, ${r}`;
  }
  return out + end;
}

function render(v: ReprValue, depth: number, maxlevels: number): string | typeof UNSUPPORTED {
  if (typeof v === 'string') return quote(v);
  if (typeof v !== 'object' || v === null) return reprScalar(v) ?? UNSUPPORTED;
  if (Array.isArray(v)) return renderSeq(v as readonly PyValue[], '[', ']', depth, maxlevels);
  if (v instanceof PyTupleView) {
    return renderSeq(v.items, '(', v.items.length === 1 ? ',)' : ')', depth, maxlevels);
  }
  if (isPyDict(v)) {
    if (maxlevels && depth >= maxlevels) return cut('{', '}');
    let out = '{';
    let first = true;
    for (const k in v) {
      if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
      const r = render(v[k] as PyValue, depth + 1, maxlevels);
      if (r === UNSUPPORTED) return r;
      out += `${first ? '' : ', '}${quote(k)}: ${r}`;
      first = false;
    }
    return `${out}}`;
  }
  if (v instanceof Uint8Array) return UNSUPPORTED;
  if (v instanceof PyDecimal) return `Decimal('${v.value}')`;
  return reprScalar(v) ?? UNSUPPORTED;
}

/**
 * `saferepr(o, maxlen, maxlevels)` when the limit cannot apply, or `undefined` when the caller
 * must run the streaming port (output not shorter than `maxlen`, or bytes inside).
 */
export function fastSaferepr(
  o: ReprValue,
  maxlen: number | undefined,
  maxlevels: number,
): string | undefined {
  const out = render(o, 0, maxlevels);
  if (out === UNSUPPORTED) return undefined;
  // UTF-16 length ≥ Python's code-point length, so this is a sufficient condition.
  if (maxlen !== undefined && out.length >= maxlen) return undefined;
  return out;
}
