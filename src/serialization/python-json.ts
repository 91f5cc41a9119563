/**
 * Python-compatible JSON, as kombu writes and reads it (`kombu/utils/json.py, dumps/loads`).
 * See `json-writer.ts` and `json-parser.ts` for the byte-level rules.
 */
import type { JsonDialect } from './json-envelope';
import { parsePyJson } from './json-parser';
import { writePyJson } from './json-writer';
import type { PyValue } from './py-values';

export type { JsonDialect } from './json-envelope';
export { dateToPyIso } from './json-envelope';
export { pyJsonString } from './json-writer';

/** Options for {@link pyJsonDumps}. */
export interface PyJsonDumpsOptions {
  /** `kombu-5.3` (default): `__type__` envelopes; `kombu-legacy`: kombu ≤ 5.2 plain strings. */
  dialect?: JsonDialect;
}

/**
 * Byte-exact `kombu.utils.json.dumps(value)`: `", "`/`": "` separators, ASCII-only output,
 * Python float repr, `NaN`/`Infinity` tokens, exact bigints. Throws `EncodeError` for values
 * Python could not serialize either.
 */
export function pyJsonDumps(value: PyValue, opts?: PyJsonDumpsOptions): string {
  return writePyJson(value, opts?.dialect ?? 'kombu-5.3');
}

/**
 * `kombu.utils.json.loads(text)`, losslessly: big ints become `bigint`, integral float literals
 * `PyFloat`, `__type__` envelopes the py-values classes. Throws `DecodeError` with a position.
 */
export function pyJsonLoads(text: string): PyValue {
  return parsePyJson(text);
}
