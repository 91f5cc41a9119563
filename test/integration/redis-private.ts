import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** A private redis-server (scripts/redis-private.sh) for tests that restart or kill Redis. */
export interface PrivateRedis {
  readonly port: number;
  readonly dir: string;
  readonly url: string;
  /** SIGTERM and start again on the same port and data directory. */
  restart(downMs?: number): Promise<void>;
  stop(): void;
  kill(): void;
  start(): void;
  /** Stop and remove the data directory. */
  destroy(): void;
}

const SCRIPT = resolve(__dirname, '..', '..', 'scripts', 'redis-private.sh');

/** A free TCP port on loopback (bind :0, read it, release it). */
/** Ports this process has handed out: never given twice (see {@link freePort}). */
const given = new Set<number>();

function probePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => {
        res(port);
      });
    });
  });
}

/**
 * A loopback port nothing listens on now, and that this process has not handed out before.
 * The OS may give a port just closed to the next `listen(0)`: a topology once got the same port
 * for its replica and a sentinel (a CI run), and a port of a stopped topology can reach a later
 * one, where clients of the old one may still be reconnecting.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await probePort();
    if (!given.has(port)) {
      given.add(port);
      return port;
    }
  }
}

export async function startPrivateRedis(args: readonly string[] = []): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'cw-redis-'));
  const start = (): void => {
    execFileSync(SCRIPT, ['start', String(port), dir, ...args], { stdio: 'pipe' });
  };
  const stop = (): void => {
    execFileSync(SCRIPT, ['stop', dir], { stdio: 'pipe' });
  };
  start();
  return {
    port,
    dir,
    url: `redis://127.0.0.1:${String(port)}/0`,
    start,
    stop,
    kill: () => execFileSync(SCRIPT, ['kill', dir], { stdio: 'pipe' }),
    restart: async (downMs = 500) => {
      stop();
      await new Promise((r) => setTimeout(r, downMs));
      start();
    },
    destroy: () => {
      stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
