import type { PyAppInfo, PyParam, PyRecordType, PyTaskInfo, PyTypeNode } from './model';

/**
 * Python type hints → celery-wire's value types (README, "Python values in JavaScript"): what
 * the value is once it has crossed the wire, not what Python holds. An `int` may arrive as a
 * `number` or, beyond 2^53, a `bigint`; an integral `float` arrives as a `PyFloat`; a dataclass
 * or pydantic model travels as the dict of its fields.
 */
const SCALAR: Readonly<Record<string, string>> = {
  any: 'PyValue',
  int: 'bigint | number',
  float: 'number | PyFloat',
  str: 'string',
  bool: 'boolean',
  bytes: 'Uint8Array',
  none: 'null',
  datetime: 'PyDateTime',
  date: 'PyDate',
  time: 'PyTime',
  decimal: 'PyDecimal',
  uuid: 'PyUUID',
};
const VALUE_TYPES = ['PyValue', 'PyFloat', 'PyDateTime', 'PyDate', 'PyTime', 'PyDecimal', 'PyUUID'];

class TypeWriter {
  readonly used = new Set<string>();

  type(t: PyTypeNode): string {
    switch (t.kind) {
      case 'unknown':
        this.used.add('PyValue');
        return `PyValue /* ${t.repr.replace(/\*\//g, '* /')} */`;
      case 'list':
        return `${this.wrapped(t.items)}[]`;
      case 'tuple':
        return `[${t.items.map((i) => this.type(i)).join(', ')}]`;
      case 'dict':
        // JSON and msgpack carry dict keys as strings, whatever Python's key type.
        return `Record<string, ${this.type(t.value)}>`;
      case 'union': {
        const parts = [...new Set(t.options.flatMap((o) => this.type(o).split(' | ')))];
        return parts.includes('PyValue') ? 'PyValue' : parts.join(' | ');
      }
      case 'literal':
        return t.values.length === 0
          ? 'never'
          : t.values
              .map((v) => (typeof v === 'string' ? JSON.stringify(v) : String(v)))
              .join(' | ');
      case 'ref':
        return tsName(t.name);
      case 'any':
      case 'int':
      case 'float':
      case 'str':
      case 'bool':
      case 'bytes':
      case 'none':
      case 'datetime':
      case 'date':
      case 'time':
      case 'decimal':
      case 'uuid': {
        const ts = SCALAR[t.kind] ?? 'PyValue';
        for (const name of ts.split(' | ')) if (VALUE_TYPES.includes(name)) this.used.add(name);
        return ts;
      }
    }
  }

  /** A type usable before `[]`. */
  private wrapped(t: PyTypeNode): string {
    const s = this.type(t);
    return /^[\w.]+$/.test(s) ? s : `(${s})`;
  }
}

const IDENT = /^[A-Za-z_$][\w$]*$/;
const tsName = (n: string): string => n.replace(/[^\w$]/g, '_');
const key = (n: string): string => (IDENT.test(n) ? n : JSON.stringify(n));
const comment = (text: string, indent: string): string => {
  const lines = text.replace(/\*\//g, '* /').split('\n');
  return lines.length === 1
    ? `${indent}/** ${lines[0] ?? ''} */\n`
    : `${indent}/**\n${lines.map((l) => `${indent} *${l ? ' ' + l : ''}`).join('\n')}\n${indent} */\n`;
};

function recordType(w: TypeWriter, r: PyRecordType): string {
  const doc = comment(`${r.doc ? `${r.doc}\n\n` : ''}Python ${r.kind} \`${r.name}\`.`, '');
  const fields = r.fields
    .map((f) => `  ${key(f.name)}${f.required ? '' : '?'}: ${w.type(f.type)};`)
    .join('\n');
  // A type alias, not an interface: aliases are assignable to PyValue's dict shape.
  return `${doc}export type ${tsName(r.name)} = {\n${fields}\n};\n`;
}

function pySignature(t: PyTaskInfo): string {
  const star = (p: PyParam): string =>
    p.kind === 'var_positional' ? `*${p.name}` : p.kind === 'var_keyword' ? `**${p.name}` : p.name;
  const parts = t.params.map((p) => star(p) + (p.has_default ? '=…' : ''));
  const firstKw = t.params.findIndex((p) => p.kind === 'keyword_only');
  if (firstKw >= 0 && !t.params.some((p) => p.kind === 'var_positional'))
    parts.splice(firstKw, 0, '*');
  return `${t.qualname ?? t.name}(${parts.join(', ')})`;
}

function taskEntry(w: TypeWriter, t: PyTaskInfo, prop: string): { entry: string; extra: string } {
  // Positional parameters with defaults become one tuple per accepted length
  // (`[x: T] | [x: T, y: T]`), not optional elements: `y?: T` would put `undefined` in the
  // element type, which is not a Python value (TaskHandle's `A extends PyValue[]`).
  const required: string[] = [];
  const optional: string[] = [];
  let rest = '';
  for (const p of t.params) {
    if (p.kind === 'positional_only' || p.kind === 'positional_or_keyword') {
      // After one defaulted parameter every later positional one has a default too (Python's rule).
      const elem = `${tsName(p.name)}: ${w.type(p.type)}`;
      if (p.has_default || optional.length > 0) optional.push(elem);
      else required.push(elem);
    } else if (p.kind === 'var_positional') {
      rest = `...${tsName(p.name)}: ${w.type({ kind: 'list', items: p.type })}`;
    }
  }
  const tuples: string[] = [];
  for (let n = 0; n <= optional.length; n++) {
    const elems = [...required, ...optional.slice(0, n)];
    // A rest parameter only makes sense once every optional one is given.
    if (rest && n === optional.length) elems.push(rest);
    tuples.push(`[${elems.join(', ')}]`);
  }
  const argsType = tuples.join(' | ');
  const kwOnly = t.params.filter((p) => p.kind === 'keyword_only');
  const varKw = t.params.find((p) => p.kind === 'var_keyword');
  let extra = '';
  if (kwOnly.length > 0 || varKw) {
    const name = `${prop.charAt(0).toUpperCase()}${prop.slice(1)}Kwargs`;
    const fields = kwOnly.map(
      (p) => `  ${key(p.name)}${p.has_default ? '?' : ''}: ${w.type(p.type)};`,
    );
    if (varKw) fields.push(`  [key: string]: ${w.type(varKw.type)};`);
    extra = `${comment(`Keyword arguments of \`${t.name}\` (pass them as \`kwargs\`).`, '')}export type ${name} = {\n${fields.join('\n')}\n};\n`;
  }
  const doc = comment(
    [`\`${t.name}\`: \`${pySignature(t)}\``, ...(t.doc ? ['', t.doc] : [])].join('\n'),
    '    ',
  );
  const entry = `${doc}    ${key(prop)}: app.task<${argsType}, ${w.type(t.returns)}>(${JSON.stringify(t.name)}),\n`;
  return { entry, extra };
}

export interface EmitOptions {
  /** The command line that made the file, printed in its header. */
  readonly command: string;
}

/** The TypeScript module of typed handles for a Python Celery app's tasks. */
export function emitStubs(info: PyAppInfo, opts: EmitOptions): string {
  const w = new TypeWriter();
  const records = Object.values(info.types).map((r) => recordType(w, r));
  const props = new Map<string, number>();
  const entries: string[] = [];
  const extras: string[] = [];
  for (const t of info.tasks) {
    const base = tsName(
      (t.qualname ?? t.name.split('.').pop() ?? t.name).split('.').pop() ?? t.name,
    );
    const n = props.get(base) ?? 0;
    props.set(base, n + 1);
    const { entry, extra } = taskEntry(w, t, n === 0 ? base : `${base}_${n + 1}`);
    entries.push(entry);
    if (extra) extras.push(extra);
  }
  const valueImports = [...w.used].sort();
  return [
    `// Generated by \`${opts.command}\` from Celery ${info.celery_version} (Python ${info.python_version}).`,
    '// Do not edit: run the same command again; `--check` fails while this file is stale.',
    `import type { CeleryApp${valueImports.map((n) => `, ${n}`).join('')} } from 'celery-wire';`,
    '',
    ...records,
    ...extras,
    `/** Typed handles for the tasks of the Python app \`${info.app}\`. */`,
    'export function pythonTasks(app: CeleryApp) {',
    '  return {',
    entries.join('').trimEnd(),
    '  } as const;',
    '}',
    '',
    'export type PythonTasks = ReturnType<typeof pythonTasks>;',
    '',
  ].join('\n');
}
