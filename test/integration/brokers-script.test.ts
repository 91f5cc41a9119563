import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

/**
 * `scripts/brokers.sh run CMD` (what `npm run conformance` and `npm run bench` go through) starts a
 * broker that does not answer, runs the command, then stops only what it started. Shown with a
 * Redis on a spare port, so the shared brokers other suites use are never touched.
 */
const root = resolve(__dirname, '..', '..');
const run = promisify(execFile);

function sparePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => {
        if (addr && typeof addr === 'object') res(addr.port);
        else rej(new Error('no port'));
      });
    });
  });
}

async function answers(port: number): Promise<boolean> {
  try {
    const { stdout } = await run('redis-cli', ['-p', String(port), 'ping']);
    return stdout.trim() === 'PONG';
  } catch {
    return false;
  }
}

describe('scripts/brokers.sh', () => {
  it('starts a missing Redis for the command and stops it afterwards', async () => {
    const port = await sparePort();
    expect(await answers(port)).toBe(false);
    const { stdout, stderr } = await run(
      'bash',
      ['scripts/brokers.sh', 'run', 'redis-cli', '-p', String(port), 'ping'],
      { cwd: root, env: { ...process.env, CELERY_WIRE_REDIS_PORT: String(port) } },
    );
    expect(stdout.trim()).toBe('PONG');
    expect(stderr).toContain(`starting redis-server on 127.0.0.1:${port}`);
    expect(stderr).toContain('stopping the redis-server we started');
    expect(await answers(port)).toBe(false);
  });

  it('leaves a broker that already answered alone', async () => {
    const { stderr } = await run('bash', ['scripts/brokers.sh', 'run', 'true'], { cwd: root });
    expect(stderr).not.toContain('starting');
    expect(stderr).not.toContain('stopping');
    expect(await answers(6379)).toBe(true);
  });
});
