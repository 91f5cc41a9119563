import Ajv, { type AnySchema, type ValidateFunction } from 'ajv';
import { InvalidTaskError, ProtocolError } from '../../errors/errors';
import { PyFloat, isPyDict } from '../../serialization/py-values';

/*
 * One ajv instance for every wire schema in this folder. Values are PyValues, so three custom
 * keywords stand in for JSON types that the value model represents with classes:
 * - `pyNumber`: a Python int or float (`number`, `bigint`, `PyFloat`);
 * - `pyInt`: a Python int (integral `number` or `bigint`);
 * - `pyDict`: a Python dict (a plain object; `PyDateTime` and friends are not dicts).
 */
const ajv = new Ajv({ allErrors: false, strict: true });
ajv.addKeyword({
  keyword: 'pyNumber',
  schemaType: 'boolean',
  validate: (_s: boolean, v: unknown) =>
    (typeof v === 'number' || typeof v === 'bigint' || v instanceof PyFloat) &&
    typeof v !== 'boolean',
});
ajv.addKeyword({
  keyword: 'pyInt',
  schemaType: 'boolean',
  validate: (_s: boolean, v: unknown) =>
    typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v)),
});
ajv.addKeyword({
  keyword: 'pyDict',
  schemaType: 'boolean',
  validate: (_s: boolean, v: unknown) => isPyDict(v),
});

const cache = new Map<AnySchema, ValidateFunction>();

function compiled(schema: AnySchema): ValidateFunction {
  let fn = cache.get(schema);
  if (!fn) {
    fn = ajv.compile(schema);
    cache.set(schema, fn);
  }
  return fn;
}

/**
 * Validate `value` against `schema`; on failure throw a {@link ProtocolError} (or
 * {@link InvalidTaskError} when `invalidTask`) whose `path` is `basePath` + ajv's instance path.
 */
export function validateWire(
  schema: AnySchema,
  value: unknown,
  what: string,
  basePath = '',
  invalidTask = false,
): void {
  const fn = compiled(schema);
  if (fn(value)) return;
  const err = fn.errors?.[0];
  const path = `${basePath}${err?.instancePath ?? ''}`;
  const detail = err ? `${err.keyword} ${err.message ?? ''}`.trim() : 'invalid';
  const message = `invalid ${what} at ${path || '/'}: ${detail}`;
  if (invalidTask) throw new InvalidTaskError(message, { path });
  throw new ProtocolError(message, { path });
}
