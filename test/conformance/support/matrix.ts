import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** One cell: a direction × line × transport × serializer × protocol, with its failed cases. */
export interface Cell {
  direction: 'Node → Python' | 'Python → Node';
  line: string;
  transport: string;
  serializer: string;
  protocol: number;
  /** Cases run (not-applicable ones excluded). */
  total: number;
  failures: { name: string; why: string }[];
  /** Cases that cannot apply on this estate, with the reason as Celery has it. */
  notApplicable: { name: string; why: string }[];
}

/**
 * One row of the published matrix (direction × line × transport), with the bullets that explain
 * it and the run that produced it. Rows of earlier runs are kept: a run replaces only its own.
 */
export interface Row {
  direction: string;
  line: string;
  transport: string;
  cols: string[];
  run: string;
  failures: string[];
  notApplicable: string[];
}

const ROOT = resolve(__dirname, '..', '..', '..');
export const MATRIX_FILE = join(ROOT, 'docs', 'compatibility-matrix.md');
const START = '<!-- compatibility-matrix:start -->';
const END = '<!-- compatibility-matrix:end -->';
const FAILURES = 'Failures:';
const NA = 'Not applicable (cases that cannot run on that estate, with Celery’s reason):';

const COLUMNS: [string, number][] = [
  ['json', 2],
  ['json', 1],
  ['msgpack', 2],
  ['msgpack', 1],
  ['yaml', 2],
  ['yaml', 1],
];

const keyOf = (r: { direction: string; line: string; transport: string }): string =>
  `${r.direction}|${r.line}|${r.transport}`;
const prefixOf = (r: { direction: string; line: string; transport: string }): string =>
  `- ${r.direction}, Celery ${r.line}, ${r.transport}`;

/** The rows of one run's cells, each marked with `run` (date, versions). */
export function rowsOf(cells: readonly Cell[], run: (line: string) => string): Row[] {
  const groups = new Map<string, Cell[]>();
  for (const c of cells) groups.set(keyOf(c), [...(groups.get(keyOf(c)) ?? []), c]);
  return [...groups.values()].flatMap((group) => {
    const first = group[0];
    if (first === undefined) return [];
    const cols = COLUMNS.map(([s, p]) => {
      const c = group.find((x) => x.serializer === s && x.protocol === p);
      if (c === undefined) return '–';
      const ok = c.total - c.failures.length;
      const na = c.notApplicable.length > 0 ? ` (+${String(c.notApplicable.length)} n/a)` : '';
      return `${c.failures.length === 0 ? '✅' : '❌'} ${String(ok)}/${String(c.total)}${na}`;
    });
    const failures = group.flatMap((c) =>
      c.failures.map(
        (f) => `${prefixOf(c)}, ${c.serializer} v${String(c.protocol)}: \`${f.name}\`: ${f.why}`,
      ),
    );
    // One bullet per reason and set of columns, naming its cases.
    const byCase = new Map<string, { why: string; cols: string[] }>();
    for (const c of group) {
      for (const n of c.notApplicable) {
        const e = byCase.get(`${n.name}|${n.why}`) ?? { why: n.why, cols: [] };
        e.cols.push(`${c.serializer} v${String(c.protocol)}`);
        byCase.set(`${n.name}|${n.why}`, e);
      }
    }
    const na = new Map<string, { names: string[]; why: string; cols: string[] }>();
    for (const [k, e] of byCase) {
      const key = `${e.why}|${e.cols.join(',')}`;
      const g = na.get(key) ?? { names: [], why: e.why, cols: e.cols };
      g.names.push(k.split('|')[0] ?? '');
      na.set(key, g);
    }
    return {
      direction: first.direction,
      line: first.line,
      transport: first.transport,
      cols,
      run: run(first.line),
      failures,
      notApplicable: [...na.values()].map(
        (e) =>
          `${prefixOf(first)}: ${e.names.map((n) => `\`${n}\``).join(', ')} (${e.cols.join(', ')}): ${e.why}`,
      ),
    };
  });
}

/**
 * The rows already published in `markdown` (docs/compatibility-matrix.md). Rows written before
 * rows carried their run get the run named in the old header line.
 */
export function parseRows(markdown: string): Row[] {
  const legacy = /Last produced by `npm run conformance` on ([^.]+)\./.exec(markdown)?.[1];
  const rows: Row[] = [];
  let section: 'table' | 'failures' | 'na' | null = null;
  const bullets: { section: 'failures' | 'na'; text: string }[] = [];
  for (const line of markdown.split('\n')) {
    if (line.startsWith('| direction |')) section = 'table';
    else if (line === FAILURES) section = 'failures';
    else if (line === NA) section = 'na';
    else if (section === 'table' && line.startsWith('| ') && !line.startsWith('|---')) {
      const c = line
        .slice(2, -2)
        .split(' | ')
        .map((x) => x.trim());
      if (c.length < 3 + COLUMNS.length) continue;
      rows.push({
        direction: c[0] ?? '',
        line: c[1] ?? '',
        transport: c[2] ?? '',
        cols: c.slice(3, 3 + COLUMNS.length),
        run: c[3 + COLUMNS.length] ?? legacy ?? 'an earlier run',
        failures: [],
        notApplicable: [],
      });
    } else if ((section === 'failures' || section === 'na') && line.startsWith('- ')) {
      bullets.push({ section, text: line });
    }
  }
  for (const b of bullets) {
    const row = rows.find(
      (r) => b.text.startsWith(`${prefixOf(r)},`) || b.text.startsWith(`${prefixOf(r)}:`),
    );
    if (row) (b.section === 'failures' ? row.failures : row.notApplicable).push(b.text);
  }
  return rows;
}

const DIRECTIONS = ['Node → Python', 'Python → Node'];
const version = (line: string): number[] => line.split('.').map(Number);

/**
 * Earlier rows with this run's rows merged in by (direction, line, transport); sorted by
 * direction, Celery line (newest first), then `transportOrder`.
 */
export function mergeRows(
  earlier: readonly Row[],
  now: readonly Row[],
  transportOrder: readonly string[],
): Row[] {
  const byKey = new Map(earlier.map((r) => [keyOf(r), r]));
  for (const r of now) byKey.set(keyOf(r), r);
  const t = (name: string): number => {
    const i = transportOrder.indexOf(name);
    return i === -1 ? transportOrder.length : i;
  };
  return [...byKey.values()].sort((a, b) => {
    const d = DIRECTIONS.indexOf(a.direction) - DIRECTIONS.indexOf(b.direction);
    if (d !== 0) return d;
    const [a1 = 0, a2 = 0] = version(a.line);
    const [b1 = 0, b2 = 0] = version(b.line);
    if (a1 !== b1 || a2 !== b2) return b1 - a1 || b2 - a2;
    return t(a.transport) - t(b.transport) || a.transport.localeCompare(b.transport);
  });
}

/** The matrix as Markdown: one row per direction × Celery line × transport. */
export function renderMatrix(rows: readonly Row[], stamp: string): string {
  const head = `| direction | Celery | broker / backend | ${COLUMNS.map(([s, p]) => `${s} v${String(p)}`).join(' | ')} | run |`;
  const lines = [
    `Rows accumulate over runs of \`npm run conformance\` (the last one ${stamp}); each run ` +
      'replaces only its own rows, and each row names the run that produced it. Each cell: ' +
      'catalogue cases passed / run; cases that cannot apply on an estate are counted as n/a ' +
      'and listed below with Celery’s reason.',
    '',
    head,
    `|${'---|'.repeat(4 + COLUMNS.length)}`,
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.direction} | ${r.line} | ${r.transport} | ${r.cols.join(' | ')} | ${r.run} |`,
    );
  }
  const failures = rows.flatMap((r) => r.failures);
  if (failures.length > 0) lines.push('', FAILURES, '', ...failures);
  const na = rows.flatMap((r) => r.notApplicable);
  if (na.length > 0) lines.push('', NA, '', ...na);
  return lines.join('\n');
}

/** The rows docs/compatibility-matrix.md holds now ([] when there is none). */
export function publishedRows(): Row[] {
  return existsSync(MATRIX_FILE) ? parseRows(readFileSync(MATRIX_FILE, 'utf8')) : [];
}

/** Write docs/compatibility-matrix.md and refresh the README block between the markers. */
export function publishMatrix(markdown: string): void {
  mkdirSync(dirname(MATRIX_FILE), { recursive: true });
  writeFileSync(MATRIX_FILE, `# Compatibility matrix\n\n${markdown}\n`);
  const readmePath = join(ROOT, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a !== -1 && b > a) {
    writeFileSync(
      readmePath,
      `${readme.slice(0, a + START.length)}\n${markdown}\n${readme.slice(b)}`,
    );
  }
}
