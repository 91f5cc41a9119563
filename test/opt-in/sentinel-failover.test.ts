import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { defineTask } from '../../src/worker/task';
import { startWorker, uniq } from '../support/worker/int-helpers';
import { freePort } from '../integration/redis-private';
import { pyFire, pyInspectPing } from '../integration/redis-estates/py-estate';

/**
 * Issue 10, Sentinel failover under load: a Celery producer and a TS worker on a real Sentinel
 * topology (scripts/redis-sentinel.sh); the master is killed with SIGKILL while the worker drains
 * a backlog and the producer keeps sending. A ledger outside the topology (the shared Redis)
 * records every run: none lost, a repeat only for a message taken off the old master in its
 * last moments (at-least-once). `celery inspect ping` reaches the TS worker over Sentinel before
 * and after. Run for Celery 5.7 and 5.2 (5.2's kombu uses the legacy fanout topic on Sentinel).
 */
const SCRIPT = resolve(__dirname, '..', '..', 'scripts', 'redis-sentinel.sh');
const LEDGER = process.env.SECURITY_TEST_REDIS ?? 'redis://127.0.0.1:6379/12';
const ledger = new Redis(LEDGER);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const record = defineTask(
  'gaps.record',
  async (run: string, id: string, ms: number) => {
    await ledger.hincrby(`gaps:${run}:started`, id, 1);
    await ledger.rpush(`gaps:${run}:times`, `${id} ${String(Date.now())}`);
    await sleep(ms);
    await ledger.hincrby(`gaps:${run}:done`, id, 1);
    return id;
  },
  { params: ['run', 'id', 'ms'], ignoreResult: true },
);

afterAll(() => {
  ledger.disconnect();
});

describe.each(['5.7', '5.2'] as const)('Sentinel failover under load, Celery %s', (line) => {
  const dir = mkdtempSync(join(tmpdir(), 'cw-senf-'));
  const ports: number[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 5; i++) ports.push(await freePort());
    execFileSync(SCRIPT, ['start', dir, ...ports.map(String)], { stdio: 'pipe' });
  });
  afterAll(() => {
    execFileSync(SCRIPT, ['stop', dir], { stdio: 'pipe' });
    rmSync(dir, { recursive: true, force: true });
  });

  it('kill -9 of the master: lost 0, repeats only in flight, recovery logged, ping before and after', async () => {
    const url = ports
      .slice(2)
      .map((p) => `sentinel://127.0.0.1:${String(p)}/0`)
      .join(';');
    const opts = { master_name: 'mymaster' };
    const settings = { broker_transport_options: opts, result_backend_transport_options: opts };
    const queue = uniq(`gaps-senf-${line.replace('.', '')}`);
    const node = `${queue}@gaps`;
    const run = uniq('run');
    const logs: string[] = [];
    const worker = await startWorker(
      {
        brokerUrl: url,
        resultBackend: url,
        brokerTransportOptions: opts,
        resultBackendTransportOptions: opts,
        celeryLine: line,
      },
      {
        queues: [queue],
        tasks: [record],
        hostname: node,
        logger: { log: (level, msg) => logs.push(`${String(Date.now())} ${level} ${msg}`) },
      },
    );
    const s1 = new Redis(ports[2] ?? 0, '127.0.0.1');
    const batch1 = Array.from({ length: 300 }, (_, i) => `a${String(i)}`);
    const batch2 = Array.from({ length: 100 }, (_, i) => `b${String(i)}`);
    try {
      expect(await pyInspectPing(line, url, settings, node)).toMatch(/pong/);
      await pyFire(line, url, settings, { queue, run, fire: batch1, ms: 60 });
      // The backlog is on the master and (WAIT) on the replica before the kill.
      const m = new Redis(ports[0] ?? 0, '127.0.0.1');
      await m.call('WAIT', '1', '2000');
      m.disconnect();
      const pid = Number(readFileSync(join(dir, 'master', 'redis.pid'), 'utf8').trim());
      const killedAt = Date.now();
      process.kill(pid, 'SIGKILL');
      const doneAtKill = await ledger.hlen(`gaps:${run}:done`);
      const fired = await pyFire(line, url, settings, {
        queue,
        run,
        fire: batch2,
        ms: 5,
        gap_ms: 5,
      });
      const all = [...batch1, ...batch2];
      let done: Record<string, string> = {};
      for (let i = 0; i < 600; i++) {
        done = await ledger.hgetall(`gaps:${run}:done`);
        if (all.every((id) => id in done)) break;
        await sleep(100);
      }
      const started = await ledger.hgetall(`gaps:${run}:started`);
      const lost = all.filter((id) => !(id in done));
      const twice = Object.entries(started).filter(([, n]) => Number(n) > 1);
      const times = (await ledger.lrange(`gaps:${run}:times`, 0, -1)).map((t) =>
        Number(t.split(' ')[1]),
      );
      const firstAfter = Math.min(...times.filter((t) => t > killedAt + 500));
      const master = (await s1.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster')) as string[];
      console.log(
        `sentinel kill -9 (${line}): ${String(all.length)} tasks (${String(doneAtKill)} done at the kill), lost ${String(lost.length)}, ` +
          `ran twice ${String(twice.length)}, producer publish retries ${String(fired.retries)}, ` +
          `new master :${master[1] ?? '?'}, runs resumed ${String(firstAfter - killedAt)} ms after the kill`,
      );
      if (lost.length > 0) {
        const nm = new Redis(Number(master[1]), '127.0.0.1');
        console.log(
          `lost: ${lost.slice(0, 5).join(' ')}…${lost.slice(-5).join(' ')}; keys on new master: ${(await nm.keys('*')).join(' ')}; llen ${String(await nm.llen(queue))}\n${logs.slice(-30).join('\n')}`,
        );
        nm.disconnect();
      }
      expect(lost).toEqual([]);
      // The kill hit a worker with a backlog.
      expect(doneAtKill).toBeLessThan(batch1.length);
      // At-least-once: a repeat is a message BRPOPped from the old master in its last moments.
      expect(twice.length).toBeLessThanOrEqual(8);
      expect(master[1]).toBe(String(ports[1]));
      const after = logs.filter((l) => Number(l.split(' ')[0]) >= killedAt).join('\n');
      expect(after).toMatch(/Connection to broker lost|Connected to|reconnect/i);
      expect(await pyInspectPing(line, url, settings, node)).toMatch(/pong/);
    } finally {
      s1.disconnect();
      await worker.shutdown();
    }
  }, 240_000);
});
