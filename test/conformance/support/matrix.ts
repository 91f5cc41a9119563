import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** One cell: a direction × line × transport × serializer × protocol, with its failed cases. */
export interface Cell {
  direction: 'Node → Python' | 'Python → Node';
  line: string;
  transport: string;
  serializer: string;
  protocol: number;
  total: number;
  failures: { name: string; why: string }[];
}

const ROOT = resolve(__dirname, '..', '..', '..');
export const MATRIX_FILE = join(ROOT, 'docs', 'compatibility-matrix.md');
const START = '<!-- compatibility-matrix:start -->';
const END = '<!-- compatibility-matrix:end -->';

const COLUMNS: [string, number][] = [
  ['json', 2],
  ['json', 1],
  ['msgpack', 2],
  ['msgpack', 1],
  ['yaml', 2],
  ['yaml', 1],
];

/** The matrix as Markdown: one row per direction × Celery line × transport. */
export function renderMatrix(cells: readonly Cell[], stamp: string): string {
  const rows = new Map<string, Cell[]>();
  for (const c of cells) {
    const key = `${c.direction}|${c.line}|${c.transport}`;
    rows.set(key, [...(rows.get(key) ?? []), c]);
  }
  const head = `| direction | Celery | broker / backend | ${COLUMNS.map(([s, p]) => `${s} v${p}`).join(' | ')} |`;
  const lines = [
    `Last produced by \`npm run conformance\` on ${stamp}. Each cell: catalogue cases passed / run.`,
    '',
    head,
    `|${'---|'.repeat(3 + COLUMNS.length)}`,
  ];
  for (const [key, group] of rows) {
    const [direction, line, transport] = key.split('|');
    const cols = COLUMNS.map(([s, p]) => {
      const c = group.find((x) => x.serializer === s && x.protocol === p);
      if (c === undefined) return '–';
      const ok = c.total - c.failures.length;
      return `${c.failures.length === 0 ? '✅' : '❌'} ${ok}/${c.total}`;
    });
    lines.push(`| ${direction} | ${line} | ${transport} | ${cols.join(' | ')} |`);
  }
  const failed = cells.filter((c) => c.failures.length > 0);
  if (failed.length > 0) {
    lines.push('', 'Failures:', '');
    for (const c of failed) {
      for (const f of c.failures) {
        lines.push(
          `- ${c.direction}, Celery ${c.line}, ${c.transport}, ${c.serializer} v${c.protocol}: \`${f.name}\`: ${f.why}`,
        );
      }
    }
  }
  return lines.join('\n');
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
