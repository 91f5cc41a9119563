/** Operations per second of `fn`, after a warm-up, measured over about `seconds`. */
export function opsPerSecond(fn: () => unknown, seconds: number): number {
  const warm = performance.now() + 200;
  while (performance.now() < warm) fn();
  let n = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  while (performance.now() < deadline) {
    for (let i = 0; i < 200; i++) fn();
    n += 200;
  }
  return n / ((performance.now() - start) / 1000);
}

/** One row of the benchmark report. */
export interface BenchRow {
  name: string;
  ours: number;
  python: number | null;
  unit: string;
  /** Target ratio ours/python (higher is better), or null when there is none. */
  targetRatio: number | null;
}

/** Render rows as a Markdown table with ratios and PASS/MISS against targets. */
export function renderRows(rows: readonly BenchRow[]): string {
  const fmt = (x: number): string => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(2));
  const lines = [
    '| benchmark | celery-wire | Python Celery | ratio | target | verdict |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const ratio = r.python === null ? null : r.ours / r.python;
    const verdict =
      r.targetRatio === null || ratio === null ? '' : ratio >= r.targetRatio ? 'PASS' : 'MISS';
    lines.push(
      `| ${r.name} | ${fmt(r.ours)} ${r.unit} | ${r.python === null ? 'n/a' : `${fmt(r.python)} ${r.unit}`} | ${ratio === null ? 'n/a' : `${ratio.toFixed(1)}×`} | ${r.targetRatio === null ? '' : `≥${r.targetRatio}×`} | ${verdict} |`,
    );
  }
  return lines.join('\n');
}
