import type { Redis } from 'ioredis';

/**
 * Close a connection politely (QUIT), then for good. ioredis cleans up a Sentinel connection's
 * failover detector (one subscribed connection per sentinel) only in `disconnect()`, never
 * after QUIT: without the second step every closed Sentinel client left its sentinel
 * connections open, reconnecting forever once the sentinels went away.
 */
export async function closeClient(c: Redis): Promise<void> {
  await c.quit().catch(() => undefined);
  c.disconnect();
}
