import type { Redis } from 'ioredis';

/** How long to wait for a dropped connection's `end` before cleaning up anyway. */
const END_WAIT_MS = 2_000;

/** States with a stream open or opening, whose close ends in `end` once we disconnect. */
const LIVE = new Set(['connecting', 'connect', 'ready', 'monitoring']);

/**
 * Drop a connection for good, including its Sentinel failover detector (one subscribed
 * connection per sentinel), which ioredis cleans up only in `disconnect()`.
 *
 * One `disconnect()` is not enough: a stream still connecting when it runs connects anyway
 * (Node ends a socket only once it is open), and ioredis creates the failover detector on that
 * `connect`, after the cleanup already ran. Those sentinel connections then stayed open,
 * reconnecting forever. So wait for `end` and disconnect once more: by then any late detector
 * exists, and `disconnect()` on an ended client only cleans the connector up.
 */
export async function dropClient(c: Redis): Promise<void> {
  if (LIVE.has(c.status)) {
    let timer: NodeJS.Timeout | undefined;
    const ended = new Promise<void>((resolve) => {
      c.once('end', resolve);
      timer = setTimeout(resolve, END_WAIT_MS);
      timer.unref();
    });
    c.disconnect();
    await ended;
    clearTimeout(timer);
  }
  c.disconnect();
}

/** Close a connection politely (QUIT), then for good (see `dropClient`). */
export async function closeClient(c: Redis): Promise<void> {
  await c.quit().catch(() => undefined);
  await dropClient(c);
}
