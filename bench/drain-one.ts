// celery-wire first: it patches amqplib's field-table codec before drain.ts loads amqplib.
import '../src/app/app';
import { Redis } from 'ioredis';
import { drain, type WorkerKind } from './drain';

/**
 * One drain row alone, for profiling and before/after comparisons:
 * `tsx bench/drain-one.ts [celery-wire|celery-node|celery-solo|celery-prefork] [amqp|redis] [runs]`
 * (default celery-wire on amqp, once). BENCH_TASKS (20000), BENCH_REDIS_URL, BENCH_AMQP_URL and
 * BENCH_NODE_ARGS (node flags for our worker, e.g. `--cpu-prof`) and BENCH_WORKER_ARGS (its
 * options after `-Q`, default `-E -c 100`) as for `npm run bench`.
 * Prints one JSON line per run: rate, worker CPU µs per task, seconds.
 */
async function main(): Promise<void> {
  const env = process.env;
  const [kind = 'celery-wire', broker = 'amqp', runs = '1'] = process.argv.slice(2);
  const redisUrl = env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/13';
  const amqpUrl = env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672//';
  const tasks = Number(env.BENCH_TASKS ?? '20000');
  const brokerUrl = broker === 'redis' ? redisUrl : amqpUrl;
  const redis = new Redis(redisUrl);
  try {
    for (let i = 0; i < Number(runs); i++) {
      const r = await drain(kind as WorkerKind, tasks, { brokerUrl, backendUrl: redisUrl }, redis);
      const line = {
        kind,
        broker,
        tasks,
        perSecond: Math.round(r.perSecond),
        cpuUsPerTask: Math.round(r.cpuUsPerTask),
        seconds: Number(r.seconds.toFixed(2)),
      };
      process.stdout.write(`${JSON.stringify(line)}\n`);
    }
  } finally {
    redis.disconnect();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(
    `drain failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exitCode = 1;
});
