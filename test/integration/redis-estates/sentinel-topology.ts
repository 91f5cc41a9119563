import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../redis-private';

const SCRIPT = resolve(__dirname, '..', '..', '..', 'scripts', 'redis-sentinel.sh');

/** A private Sentinel topology of the enclosing `describe`: ports are master, replica, s1–s3. */
export interface SentinelTopology {
  /** The script's data directory (`master/redis.pid`, …). */
  readonly dir: string;
  readonly ports: readonly number[];
  /** `sentinel://127.0.0.1:<s1>/<db>;…` as Celery writes a Sentinel URL list. */
  readonly url: (db?: number) => string;
}

/**
 * Starts `scripts/redis-sentinel.sh` (master, replica, three sentinels on free ports; with
 * `auth`, password-protected data nodes and sentinels) before the enclosing `describe`'s tests
 * and stops it after them.
 */
export function useSentinelTopology(
  prefix: string,
  auth: { password?: string; sentinelPassword?: string } = {},
): SentinelTopology {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const ports: number[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 5; i++) ports.push(await freePort());
    execFileSync(SCRIPT, ['start', dir, ...ports.map(String)], {
      stdio: 'pipe',
      env: {
        ...process.env,
        ...(auth.password === undefined ? {} : { REDIS_SENTINEL_DATA_PASSWORD: auth.password }),
        ...(auth.sentinelPassword === undefined
          ? {}
          : { REDIS_SENTINEL_PASSWORD: auth.sentinelPassword }),
      },
    });
  });
  afterAll(() => {
    execFileSync(SCRIPT, ['stop', dir], { stdio: 'pipe' });
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir,
    ports,
    // The data nodes' password in every entry, as Celery's docs write it.
    url: (db = 0) =>
      ports
        .slice(2)
        .map(
          (p) =>
            `sentinel://${auth.password === undefined ? '' : `:${auth.password}@`}127.0.0.1:${String(p)}/${String(db)}`,
        )
        .join(';'),
  };
}
