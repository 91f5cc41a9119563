import { benchClient } from './client';
import { benchCodec } from './codec';
import { benchWorker } from './worker';
import { renderRows, type BenchRow } from './measure';

/**
 * `npm run bench`: every benchmark beside the same operation in Python Celery, measured in the
 * same run on the same machine. Targets are reported, never asserted in tests.
 */
async function main(): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? '2');
  const only = process.argv.slice(2);
  const suites: [string, () => Promise<BenchRow[]>][] = [
    ['codec', () => benchCodec(seconds)],
    ['client', () => benchClient()],
    ['worker', () => benchWorker()],
  ];
  const rows: BenchRow[] = [];
  for (const [name, run] of suites) {
    if (only.length > 0 && !only.includes(name)) continue;
    process.stderr.write(`bench: ${name}…\n`);
    rows.push(...(await run()));
  }
  process.stdout.write(`${renderRows(rows)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(
    `bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exitCode = 1;
});
