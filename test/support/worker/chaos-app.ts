import { Redis } from 'ioredis';
import { defineTask, type CeleryConfig, type TaskContext } from 'celery-wire';

/**
 * The chaos ledger app for `celery-wire worker --app test/support/worker/chaos-app.ts`: the same
 * `chaos.record` task as `chaos_app.py`, acks_late, recording every start and finish in a Redis
 * ledger (`CHAOS_LEDGER_URL`). The ioredis client stays open on purpose: the CLI must still exit
 * after its shutdown.
 */
const ledgerUrl = process.env.CHAOS_LEDGER_URL ?? 'redis://127.0.0.1:6379/2';
let ledger: Redis | undefined;
const db = (): Redis => (ledger ??= new Redis(ledgerUrl));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const tasks = [
  defineTask(
    'chaos.record',
    async (ctx: TaskContext, run: string, id: string, ms: number) => {
      await db().hincrby(`chaos:${run}:started`, id, 1);
      await db().rpush(`chaos:${run}:log`, `start ${id} ${ctx.hostname}`);
      await sleep(ms);
      await db().hincrby(`chaos:${run}:done`, id, 1);
      await db().rpush(`chaos:${run}:log`, `done ${id} ${ctx.hostname}`);
      return id;
    },
    { params: ['run', 'id', 'ms'], bind: true, acksLate: true, ignoreResult: true },
  ),
];

const vt = process.env.CHAOS_VT_SECONDS;
export const config: Partial<CeleryConfig> = {
  taskAcksLate: true,
  ...(vt === undefined
    ? {}
    : {
        // A scan every 1 s (kombu: unacked_restore_interval × unacked_restore_throttle).
        brokerTransportOptions: {
          visibility_timeout: Number(vt),
          unacked_restore_interval: 1,
          unacked_restore_throttle: 1,
        },
      }),
};
