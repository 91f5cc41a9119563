import { execFile } from 'node:child_process';
import { CHAOS_AMQP, runPy, sleep, startTsWorker } from '../support/worker/chaos';
import { uniq } from '../support/worker/int-helpers';
import { closeConnections, connectionsOfProcess, rabbitmqctl } from './amqp-chaos-support';

jest.setTimeout(180_000);

/** The pid of the worker started with `-n <name>` (to find its own RabbitMQ connections). */
function pidOf(name: string): Promise<number> {
  return new Promise((res, rej) => {
    execFile('pgrep', ['-f', '--', name], (err, out) => {
      const pid = Number(out.trim().split('\n')[0]);
      if (err || !Number.isInteger(pid) || pid <= 0) rej(new Error(`no process for ${name}`));
      else res(pid);
    });
  });
}

async function ping(name: string): Promise<string> {
  return runPy(['-m', 'celery', '-A', 'chaos_app', 'inspect', 'ping', '-d', name, '-t', '3'], {
    broker: CHAOS_AMQP,
  }).catch((e: unknown) => (e instanceof Error ? e.message : String(e)));
}

/**
 * Issue 8's 404 loop: after `close_connection` the worker must declare its auto-delete pidbox
 * queue again before consuming it (the old one died with the connection), and `celery inspect
 * ping` from real Celery 5.7 must reach it again — once, without a reconnect loop.
 */
describe('chaos: close_connection with remote control on (TS worker, Celery 5.7 inspect)', () => {
  it('re-declares the pidbox queue; inspect ping answers again; no reconnect loop', async () => {
    const queue = uniq('cw-chaos-pidbox');
    const w = await startTsWorker({ broker: CHAOS_AMQP, queues: [queue] });
    try {
      expect(await ping(w.name)).toMatch(/pong/);
      const pid = await pidOf(w.name);
      const conns = await connectionsOfProcess(pid);
      expect(conns.length).toBeGreaterThanOrEqual(1);
      await closeConnections(conns, 'chaos pidbox test');
      let answer = '';
      const end = Date.now() + 60_000;
      while (!answer.includes('pong') && Date.now() < end) {
        answer = await ping(w.name);
        if (!answer.includes('pong')) await sleep(500);
      }
      expect(answer).toMatch(/pong/);
      await sleep(3000);
      const log = w.log();
      console.log(`pidbox after close_connection: ${JSON.stringify({ conns: conns.length })}`);
      expect(log).not.toMatch(/NOT_FOUND|404/);
      expect(log).toMatch(/consumer: Connection to broker lost/);
      // One loss per closed connection; no loop.
      const lost = log.match(/Connection to broker lost/g) ?? [];
      expect(lost.length).toBeLessThanOrEqual(conns.length);
      expect((await connectionsOfProcess(pid)).length).toBe(conns.length);
    } finally {
      await w.stop();
      await rabbitmqctl(['delete_queue', queue]).catch(() => undefined);
    }
  });
});
