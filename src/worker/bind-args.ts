import type { PyValue } from '../serialization/py-values';
import { PythonError } from './exceptions';
import type { TaskDefinition } from './task';

function plural(n: number, word: string): string {
  return `${String(n)} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * Bind a message's `args`/`kwargs` to the handler's parameters as Python binds
 * `fun(*args, **kwargs)` for a positional-or-keyword signature, raising the same `TypeError`
 * messages on a mismatch (so the stored FAILURE reads as it would from a Python worker).
 */
export function bindArgs(
  def: TaskDefinition,
  args: readonly PyValue[],
  kwargs: Readonly<Record<string, PyValue>>,
): unknown[] {
  const params = def.options.params;
  if (params === undefined) return [...args, kwargs];
  const fn = def.name.slice(def.name.lastIndexOf('.') + 1);
  const defaults = def.options.defaults ?? {};
  const rest: Record<string, PyValue> = { ...kwargs };
  if (args.length > params.length) {
    throw new PythonError(
      'TypeError',
      `${fn}() takes ${plural(params.length, 'positional argument')} but ${String(args.length)} ${args.length === 1 ? 'was' : 'were'} given`,
    );
  }
  const out: unknown[] = [...args];
  for (let i = 0; i < args.length; i++) {
    const name = params[i] ?? '';
    if (name in rest) {
      throw new PythonError('TypeError', `${fn}() got multiple values for argument '${name}'`);
    }
  }
  const missing: string[] = [];
  const used = new Set<string>();
  for (let i = args.length; i < params.length; i++) {
    const name = params[i] ?? '';
    if (Object.hasOwn(rest, name)) {
      out.push(rest[name]);
      used.add(name);
    } else if (Object.hasOwn(defaults, name)) out.push(defaults[name]);
    else {
      out.push(undefined);
      missing.push(name);
    }
  }
  if (missing.length > 0) {
    const names = missing.map((n) => `'${n}'`);
    const list =
      names.length === 1
        ? (names[0] ?? '')
        : `${names.slice(0, -1).join(', ')} and ${names.at(-1) ?? ''}`;
    throw new PythonError(
      'TypeError',
      `${fn}() missing ${plural(missing.length, 'required positional argument')}: ${list}`,
    );
  }
  const extra = Object.keys(rest).filter((k) => !used.has(k));
  if (def.options.varKwargs === true) {
    out.push(Object.fromEntries(extra.map((k) => [k, rest[k] ?? null])));
  } else if (extra.length > 0) {
    throw new PythonError(
      'TypeError',
      `${fn}() got an unexpected keyword argument '${extra[0] ?? ''}'`,
    );
  }
  return out;
}
