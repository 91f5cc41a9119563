import {
  PyDate,
  PyDateTime,
  PyDecimal,
  PyFloat,
  PyTime,
  PyUUID,
  type PyValue,
} from '../../serialization/py-values';

/**
 * Values crossing the worker-thread boundary. `postMessage` uses the structured clone algorithm,
 * which keeps `bigint`, `Uint8Array`, `Date`, arrays and plain objects but turns every class
 * instance into a plain object: a {@link PyFloat} would arrive as `{value: 1}` and be sent to
 * Python as a dict. So the sender records where the py-values wrappers are (a path and a kind
 * per wrapper) and the receiver rebuilds them in place on the cloned copy. Paths, not tags: no
 * user dict can be mistaken for a wrapper.
 */
export interface Packed {
  readonly value: unknown;
  /** `[kind, ...path]` for every wrapper found. */
  readonly fixups: readonly (readonly (string | number)[])[];
}

type Kind = 'f' | 'dt' | 'd' | 't' | 'dec' | 'u' | 'buf';

function kindOf(v: object): Kind | null {
  if (v instanceof PyFloat) return 'f';
  if (v instanceof PyDateTime) return 'dt';
  if (v instanceof PyDate) return 'd';
  if (v instanceof PyTime) return 't';
  if (v instanceof PyDecimal) return 'dec';
  if (v instanceof PyUUID) return 'u';
  // A Buffer arrives as a plain Uint8Array; decoders hand out Buffers, so keep that too.
  if (Buffer.isBuffer(v)) return 'buf';
  return null;
}

/** Record the wrappers of `value`; the value itself is sent as is (no copy). */
export function pack(value: unknown): Packed {
  const fixups: (string | number)[][] = [];
  const seen = new Set<object>();
  const path: (string | number)[] = [];
  const walk = (v: unknown): void => {
    if (typeof v !== 'object' || v === null) return;
    const kind = kindOf(v);
    if (kind !== null) {
      fixups.push([kind, ...path]);
      return;
    }
    if (ArrayBuffer.isView(v) || v instanceof Date || seen.has(v)) return;
    seen.add(v);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        path.push(i);
        walk(v[i]);
        path.pop();
      }
    } else {
      for (const k of Object.keys(v)) {
        path.push(k);
        walk((v as Record<string, unknown>)[k]);
        path.pop();
      }
    }
    seen.delete(v);
  };
  walk(value);
  return { value, fixups };
}

function rebuild(kind: Kind, raw: unknown): unknown {
  const o = raw as Record<string, unknown>;
  switch (kind) {
    case 'f':
      return new PyFloat(o.value as number);
    case 'dt':
      return new PyDateTime(o.iso as string);
    case 'd':
      return new PyDate(o.iso as string);
    case 't':
      return new PyTime(o.iso as string);
    case 'dec':
      return new PyDecimal(o.value as string);
    case 'u':
      return new PyUUID(o.hex as string);
    case 'buf': {
      const u = raw as Uint8Array;
      return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
    }
  }
}

/** Rebuild the wrappers of a structured-cloned {@link Packed} (mutates the clone, which is ours). */
export function unpack(p: Packed): PyValue {
  let root = p.value;
  for (const fix of p.fixups) {
    const [kind, ...path] = fix as [Kind, ...(string | number)[]];
    const last = path.pop();
    if (last === undefined) {
      root = rebuild(kind, root);
      continue;
    }
    let parent = root as Record<string | number, unknown>;
    for (const step of path) parent = parent[step] as Record<string | number, unknown>;
    parent[last] = rebuild(kind, parent[last]);
  }
  return root as PyValue;
}
