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
  /** Absolute target for rates: `ours` must be at least this (e.g. 150,000 tasks/s). */
  targetMin?: number;
  /** Absolute target for latencies and overheads: `ours` must be below this. */
  targetMax?: number;
}

const fmt = (x: number): string =>
  Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(2);

/** The target column and the verdict of one row; every stated target must hold for PASS. */
export function judgeRow(r: BenchRow): { target: string; verdict: string } {
  const ratio = r.python === null ? null : r.ours / r.python;
  const targets: string[] = [];
  const checks: boolean[] = [];
  if (r.targetRatio !== null) {
    targets.push(`≥${String(r.targetRatio)}×`);
    if (ratio !== null) checks.push(ratio >= r.targetRatio);
  }
  if (r.targetMin !== undefined) {
    targets.push(`≥${fmt(r.targetMin)} ${r.unit}`);
    checks.push(r.ours >= r.targetMin);
  }
  if (r.targetMax !== undefined) {
    targets.push(`<${fmt(r.targetMax)} ${r.unit}`);
    checks.push(r.ours < r.targetMax);
  }
  const verdict = checks.length === 0 ? '' : checks.every(Boolean) ? 'PASS' : 'MISS';
  return { target: targets.join(', '), verdict };
}

/** Render rows as a Markdown table with ratios and PASS/MISS against targets. */
export function renderRows(rows: readonly BenchRow[]): string {
  const lines = [
    '| benchmark | celery-wire | Python Celery | ratio | target | verdict |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const ratio = r.python === null ? null : r.ours / r.python;
    const { target, verdict } = judgeRow(r);
    lines.push(
      `| ${r.name} | ${fmt(r.ours)} ${r.unit} | ${r.python === null ? 'n/a' : `${fmt(r.python)} ${r.unit}`} | ${ratio === null ? 'n/a' : `${ratio.toFixed(1)}×`} | ${target} | ${verdict} |`,
    );
  }
  return lines.join('\n');
}
