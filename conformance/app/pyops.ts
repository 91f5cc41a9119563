import { PyFloat, PythonError, type PyValue } from 'celery-wire';

type Num = number | bigint | PyFloat;

function isNum(v: PyValue): v is Num {
  return typeof v === 'number' || typeof v === 'bigint' || v instanceof PyFloat;
}

/** Python's int vs float split in our value model: PyFloat or a non-integral number is a float. */
function isFloat(v: Num): boolean {
  return v instanceof PyFloat || (typeof v === 'number' && !Number.isInteger(v));
}

function float(x: number): PyValue {
  return Number.isInteger(x) ? new PyFloat(x) : x;
}

function int(x: bigint): PyValue {
  return x >= BigInt(Number.MIN_SAFE_INTEGER) && x <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(x)
    : x;
}

function typeName(v: PyValue): string {
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v)) return 'list';
  if (v === null) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (isNum(v)) return isFloat(v) ? 'float' : 'int';
  return 'dict';
}

function unsupported(op: string, a: PyValue, b: PyValue): PythonError {
  return new PythonError(
    'TypeError',
    `unsupported operand type(s) for ${op}: '${typeName(a)}' and '${typeName(b)}'`,
  );
}

/** Python `a + b` for numbers (exact ints), strings and lists. */
export function pyAdd(a: PyValue, b: PyValue): PyValue {
  if (typeof a === 'boolean') a = a ? 1 : 0;
  if (typeof b === 'boolean') b = b ? 1 : 0;
  if (isNum(a) && isNum(b)) {
    if (isFloat(a) || isFloat(b)) return float(Number(a) + Number(b));
    return int(BigInt(a as number | bigint) + BigInt(b as number | bigint));
  }
  if (typeof a === 'string' && typeof b === 'string') return a + b;
  if (Array.isArray(a) && Array.isArray(b)) return [...(a as PyValue[]), ...(b as PyValue[])];
  throw unsupported('+', a, b);
}

/** Python `a * b` for numbers (exact ints), and str/list repetition by an int. */
export function pyMul(a: PyValue, b: PyValue): PyValue {
  if (typeof a === 'boolean') a = a ? 1 : 0;
  if (typeof b === 'boolean') b = b ? 1 : 0;
  if (isNum(a) && isNum(b)) {
    if (isFloat(a) || isFloat(b)) return float(Number(a) * Number(b));
    return int(BigInt(a as number | bigint) * BigInt(b as number | bigint));
  }
  if ((typeof a === 'string' || Array.isArray(a)) && isNum(b) && !isFloat(b)) {
    const n = Math.max(0, Number(b));
    if (typeof a === 'string') return a.repeat(n);
    return Array.from({ length: n }, () => a as PyValue[]).flat();
  }
  if (isNum(a) && !isFloat(a) && (typeof b === 'string' || Array.isArray(b))) return pyMul(b, a);
  throw unsupported('*', a, b);
}

/** Python `sum(values)` (start 0). */
export function pySum(values: PyValue): PyValue {
  if (!Array.isArray(values)) {
    throw new PythonError('TypeError', `'${typeName(values)}' object is not iterable`);
  }
  let acc: PyValue = 0;
  for (const v of values as PyValue[]) acc = pyAdd(acc, v);
  return acc;
}
