import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { REDIS_FETCH_SCRIPT } from '../../protocol/redis-fetch-script';

const SHA = createHash('sha1').update(REDIS_FETCH_SCRIPT).digest('hex');

/**
 * EVALSHA of the fetch script, loading it with EVAL on NOSCRIPT (after a restart, a failover or
 * SCRIPT FLUSH), as redis-py's `Script` object does.
 */
export async function evalScript(
  client: Redis,
  keys: readonly string[],
  args: readonly string[],
): Promise<unknown> {
  try {
    return await client.evalsha(SHA, keys.length, ...keys, ...args);
  } catch (e) {
    if (!(e instanceof Error) || !e.message.startsWith('NOSCRIPT')) throw e;
    return await client.eval(REDIS_FETCH_SCRIPT, keys.length, ...keys, ...args);
  }
}
