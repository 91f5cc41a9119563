/** One row of the report: what each contender measured, the target and whether it holds. */
export interface Row {
  what: string;
  ours: string;
  node?: string;
  python?: string;
  ceiling?: string;
  target?: string;
  /** `met`, `missed`, or '' when the row has no target. */
  verdict?: string;
}

export const rate = (x: number | undefined): string =>
  x === undefined || !Number.isFinite(x)
    ? '—'
    : x < 1000
      ? `${String(Math.round(x))}/s`
      : `${(x / 1000).toFixed(1)}k/s`;

export const num = (x: number | undefined, unit = ''): string =>
  x === undefined || !Number.isFinite(x)
    ? '—'
    : `${x >= 100 ? Math.round(x) : x.toFixed(2)}${unit}`;

export const ratio = (a: number, b: number | undefined): string =>
  b === undefined || !Number.isFinite(b) || b === 0 ? '' : ` (${(a / b).toFixed(2)}×)`;

export const verdict = (ok: boolean): string => (ok ? 'met' : 'missed');

/** The README's table: one line per row, contenders side by side. */
export function renderTable(rows: readonly Row[]): string {
  const lines = [
    '| what | celery-wire | celery-node 0.5.9 | Python Celery | ceiling (raw client) | target | verdict |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const cells = [r.what, r.ours, r.node, r.python, r.ceiling, r.target, r.verdict];
    lines.push(`| ${cells.map((c) => c ?? '').join(' | ')} |`);
  }
  return lines.join('\n');
}
