// celery-wire first: it patches amqplib's field-table codec, which must happen before anything
// else (env.ts, drain.ts) loads amqplib.
import '../src/app/app';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { benchClients } from './clients';
import { benchCpuBound } from './cpu-bound';
import { environment, loadLine } from './env';
import { repoRoot } from './procs';
import { renderTable, type Row } from './table';
import { benchWorkers } from './workers';

/**
 * `npm run bench`: what users run, side by side in one run on one machine — celery-wire's client
 * and CLI worker, celery-node 0.5.9 (bench/package.json only), Python Celery and the raw client
 * ceiling. Prints the table and writes docs/bench.md. Targets are reported, never asserted.
 *
 * BENCH_TASKS (default 20000), BENCH_PY_TASKS (3000: Python drains at ~1k/s), BENCH_SOAK
 * (100000; the 1M soak is BENCH_SOAK=1000000), BENCH_CPU_TASKS (40) and BENCH_CPU_WORK
 * (20000000 loop iterations per CPU-bound task), BENCH_REDIS_URL (db 13), BENCH_AMQP_URL.
 * `npm run bench -- clients`, `-- workers` or `-- cpu` runs one part.
 */
async function main(): Promise<void> {
  const env = process.env;
  const redisUrl = env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/13';
  const amqpUrl = env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672//';
  const tasks = Number(env.BENCH_TASKS ?? '20000');
  const pythonTasks = Number(env.BENCH_PY_TASKS ?? '3000');
  const soak = Number(env.BENCH_SOAK ?? '100000');
  const only = process.argv.slice(2);
  const want = (s: string): boolean => only.length === 0 || only.includes(s);
  const head = await environment(redisUrl, amqpUrl);
  const redis = new Redis(redisUrl);
  const rows: Row[] = [];
  try {
    if (want('clients')) {
      rows.push(...(await benchClients({ redisUrl, amqpUrl, tasks, pythonTasks: 10_000 }, redis)));
    }
    if (want('workers')) {
      rows.push(...(await benchWorkers({ redisUrl, amqpUrl, tasks, pythonTasks, soak }, redis)));
    }
    if (want('cpu')) {
      const cpu = {
        tasks: Number(env.BENCH_CPU_TASKS ?? '40'),
        work: Number(env.BENCH_CPU_WORK ?? '20000000'),
      };
      rows.push(...(await benchCpuBound({ redisUrl, ...cpu })));
    }
  } finally {
    redis.disconnect();
  }
  const text = [
    '# Benchmark (`npm run bench`)',
    '',
    'One run, one machine, every contender started as its users start it: our worker is',
    '`celery-wire worker --app conformance/app/index.ts -Q … -E -c 100` (log level info, events and',
    'remote control on), celery-node is `createWorker(...).start()`, Python is',
    '`celery -A peer.app worker -E -P solo|prefork` (default log level). Drain rates run from the',
    'first result stored to the last one (start-up excluded), counted by EXISTS on the result keys.',
    '',
    ...head,
    loadLine(),
    '',
    renderTable(rows),
    '',
    // Analysis lives beside the table, not in it: this file is rewritten on every full run.
    'What bounds each missed target, and notes on partial runs: [bench-notes.md](bench-notes.md).',
    '',
  ].join('\n');
  process.stdout.write(`${text}\n`);
  // A partial run (one half) goes to the git-ignored .bench/, never over the full table.
  const dir = join(repoRoot, only.length === 0 ? 'docs' : '.bench');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, only.length === 0 ? 'bench.md' : 'bench-partial.md'), text);
}

main().catch((e: unknown) => {
  process.stderr.write(
    `bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exitCode = 1;
});
