/**
 * kombu's YAML codec: PyYAML `safe_dump`/`safe_load` (`kombu/serialization.py, register_yaml`),
 * built on js-yaml with a schema that keeps Python's value kinds: big ints as bigint, integral
 * floats as {@link PyFloat}, timestamps as {@link PyDateTime}/{@link PyDate}, `!!binary` as bytes.
 * Output is semantically (not byte-) equal to PyYAML's; keys are sorted as `safe_dump` does.
 */
import * as jsYaml from 'js-yaml';
import { dump, FAILSAFE_SCHEMA, load, Type } from 'js-yaml';
import { DecodeError, EncodeError } from '../errors/errors';
import { dateToPyIso } from './json-envelope';
import { pyFloatRepr } from './py-float';
import type { PyValue } from './py-values';
import { isPyDict, PyDate, PyDateTime, PyFloat } from './py-values';

/** js-yaml's built-in types: exported at runtime, missing from @types/js-yaml. */
interface BuiltinType extends Type {
  resolve(data: string): boolean;
  construct(data: string): unknown;
}
const types = (
  jsYaml as unknown as {
    types: Record<'null' | 'bool' | 'merge' | 'omap' | 'pairs' | 'set', Type> &
      Record<'int' | 'float' | 'binary', BuiltinType>;
  }
).types;

const isIntegral = (x: unknown): boolean =>
  typeof x === 'bigint' || (typeof x === 'number' && Number.isInteger(x) && !Object.is(x, -0));

const intType = new Type('tag:yaml.org,2002:int', {
  kind: 'scalar',
  resolve: (d: string) => types.int.resolve(d),
  construct: (d: string): number | bigint => {
    const n = types.int.construct(d) as number;
    if (Number.isSafeInteger(n)) return n === 0 ? 0 : n;
    const clean = d.replace(/_/g, '');
    return /^[-+]?[0-9]+$/.test(clean) ? BigInt(clean) : n;
  },
  predicate: isIntegral,
  represent: (x: object) => (x as unknown as number | bigint).toString(),
});

/** PyYAML's float text: `.nan`, `.inf`, and a `.0` before a bare exponent (YAML 1.1 needs it). */
function yamlFloat(x: number): string {
  if (Number.isNaN(x)) return '.nan';
  if (!Number.isFinite(x)) return x > 0 ? '.inf' : '-.inf';
  const r = pyFloatRepr(x);
  return r.includes('e') && !r.includes('.') ? r.replace('e', '.0e') : r;
}

const floatType = new Type('tag:yaml.org,2002:float', {
  kind: 'scalar',
  resolve: (d: string) => types.float.resolve(d),
  construct: (d: string): number | PyFloat => {
    const n = types.float.construct(d) as number;
    return Number.isInteger(n) ? new PyFloat(n) : n;
  },
  predicate: (x: unknown) => x instanceof PyFloat || (typeof x === 'number' && !isIntegral(x)),
  represent: (x: object) => yamlFloat(x instanceof PyFloat ? x.value : (x as unknown as number)),
});

const TS_RE =
  /^(\d{4}-\d\d?-\d\d?)(?:(?:[Tt]|[ \t]+)(\d\d?):(\d\d):(\d\d)(?:\.(\d*))?(?:[ \t]*(Z|[-+]\d\d?(?::?\d\d)?))?)?$/;
const two = (s: string): string => s.padStart(2, '0');

/** PyYAML `construct_yaml_timestamp`, expressed as Python `isoformat()` text. */
function constructTimestamp(d: string): PyDate | PyDateTime {
  const m = TS_RE.exec(d);
  if (m === null) throw new DecodeError(`bad YAML timestamp ${d}`);
  const [, date = '', hh, mm = '', ss = '', frac = '', tz] = m;
  const [y = '', mo = '', da = ''] = date.split('-');
  const ymd = `${y}-${two(mo)}-${two(da)}`;
  if (hh === undefined) return new PyDate(ymd);
  const us = frac.slice(0, 6).padEnd(6, '0');
  let offset = '';
  if (tz === 'Z') offset = '+00:00';
  else if (tz !== undefined) {
    const [h = '', min = '00'] = tz.slice(1).split(':');
    offset = `${tz[0] ?? '+'}${two(h.slice(0, 2))}:${tz.includes(':') ? min : tz.slice(3) || '00'}`;
  }
  const fraction = /^0+$/.test(us) ? '' : `.${us}`;
  return new PyDateTime(`${ymd}T${two(hh)}:${mm}:${ss}${fraction}${offset}`);
}

const timestampType = new Type('tag:yaml.org,2002:timestamp', {
  kind: 'scalar',
  resolve: (d: string) => TS_RE.test(d),
  construct: constructTimestamp,
  predicate: (x: unknown) => x instanceof PyDateTime || x instanceof PyDate || x instanceof Date,
  represent: (x: object) => (x instanceof Date ? dateToPyIso(x) : (x as PyDateTime | PyDate).iso),
});

// js-yaml's own `!!binary` turns an empty payload into three zero bytes; Buffer does not.
const binaryType = new Type('tag:yaml.org,2002:binary', {
  kind: 'scalar',
  resolve: (d: string | null) => types.binary.resolve(d ?? ''),
  construct: (d: string | null) => Buffer.from((d ?? '').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64'),
  predicate: (x: unknown) => x instanceof Uint8Array,
  represent: (x: object) => Buffer.from(x as Uint8Array).toString('base64'),
});

const PY_SCHEMA = FAILSAFE_SCHEMA.extend({
  implicit: [types.null, types.bool, intType, floatType, timestampType, types.merge],
  explicit: [binaryType, types.omap, types.pairs, types.set],
});

/** safe_dump refuses (RepresenterError) anything outside YAML's plain types. */
function check(v: PyValue, depth: number): void {
  if (typeof v !== 'object' || v === null) return;
  if (depth > 512) throw new EncodeError('value nested too deeply for YAML');
  if (Array.isArray(v)) {
    for (const item of v as readonly PyValue[]) check(item, depth + 1);
  } else if (isPyDict(v)) {
    for (const item of Object.values(v)) check(item, depth + 1);
  } else if (
    !(v instanceof PyFloat || v instanceof PyDateTime || v instanceof PyDate) &&
    !(v instanceof Date || v instanceof Uint8Array)
  ) {
    const name = (v as { constructor?: { name?: string } }).constructor?.name ?? 'object';
    throw new EncodeError(`cannot represent an object: ${name} (yaml.safe_dump)`);
  }
}

/** `yaml.safe_dump(value)`, semantically: block style, sorted keys. */
export function dumpPyYaml(value: PyValue): string {
  check(value, 0);
  try {
    return dump(value, { schema: PY_SCHEMA, sortKeys: true, noRefs: true, lineWidth: -1 });
  } catch (e) {
    throw new EncodeError('YAML encoding failed', { cause: e });
  }
}

/** `yaml.safe_load(text)` into PyValues. */
export function loadPyYaml(text: string): PyValue {
  try {
    return (load(text, { schema: PY_SCHEMA }) ?? null) as PyValue;
  } catch (e) {
    if (e instanceof DecodeError) throw e;
    throw new DecodeError('YAML decoding failed', { cause: e });
  }
}
