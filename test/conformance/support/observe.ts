import { pyJsonDumps } from '../../../src/serialization/python-json';
import { isPyDict, type PyValue } from '../../../src/serialization/py-values';
import type { CaseContext, ConformanceCase } from './cases';

/** What the calling side observed for one case, whichever language called. */
export interface Observation {
  name: string;
  state: string;
  value: PyValue;
  exception: { type: string; module: string; args: PyValue[] } | null;
  elapsed: number;
}

/** Recursively key-sorted copy, so dict order never decides equality. */
function sorted(v: PyValue): PyValue {
  if (Array.isArray(v)) return (v as readonly PyValue[]).map(sorted);
  if (isPyDict(v)) {
    const out: Record<string, PyValue> = {};
    for (const k of Object.keys(v).sort()) out[k] = sorted(v[k] ?? null);
    return out;
  }
  return v;
}

/** Python-JSON text of a value: exact ints, `1.0` floats, bytes/datetimes in kombu's form. */
export function canonical(v: PyValue): string {
  return pyJsonDumps(sorted(v), { dialect: 'kombu-5.3' });
}

/** `null` when the observation meets the case's expectation, else why not. */
export function judge(
  c: ConformanceCase,
  o: Observation | undefined,
  ctx: CaseContext,
): string | null {
  if (o === undefined) return 'no observation';
  const e = c.expect;
  if (o.state !== e.state) {
    const why = o.exception
      ? ` (${o.exception.module}.${o.exception.type}: ${canonical(o.exception.args)})`
      : '';
    return `state ${o.state}, expected ${e.state}${why}`;
  }
  if (c.minElapsed !== undefined && o.elapsed < c.minElapsed) {
    return `ready after ${o.elapsed.toFixed(2)}s, expected ≥ ${c.minElapsed}s`;
  }
  switch (e.state) {
    case 'SUCCESS':
      if (e.value !== undefined && canonical(o.value) !== canonical(e.value)) {
        return `value ${canonical(o.value)}, expected ${canonical(e.value)}`;
      }
      return e.check ? e.check(o.value, ctx) : null;
    case 'FAILURE': {
      const x = o.exception;
      if (x === null) return 'no exception';
      if (x.type !== e.excType || x.module !== e.excModule) {
        return `exception ${x.module}.${x.type}, expected ${e.excModule}.${e.excType}`;
      }
      if (canonical(x.args) !== canonical(e.excArgs)) return `exception args ${canonical(x.args)}`;
      return null;
    }
    case 'REVOKED':
      return null;
  }
}
