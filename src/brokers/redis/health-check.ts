import type { Redis } from 'ioredis';

/**
 * `health_check_interval` (broker transport option, kombu default 25 s;
 * `redis_backend_health_check_interval` for the result backend, Celery default off).
 *
 * redis-py PINGs a connection idle for longer than the interval before using it
 * (`redis/connection.py`, `AbstractConnection.check_health`), kombu PINGs the pub/sub connection
 * every interval (`kombu/transport/redis.py`, `MultiChannelPoller.maybe_check_subclient_health`)
 * and, since 5.7, drops a BRPOP connection whose reply is overdue by more than
 * `brpop_timeout + health_check_interval` (`maybe_check_brpop_health`, warning "Redis BRPOP got no
 * reply for %.0f seconds; dropping stale connection"). ioredis has none of these, and a half-open
 * socket (a failover behind a NAT, a firewall that drops state) never errors by itself.
 *
 * Here every connection gets a PING each interval; on a blocked connection it queues behind the
 * BRPOP and is answered when the BRPOP ends (≤ `graceMs`). A PING still unanswered after
 * interval + grace means the connection is dead: it is dropped and ioredis reconnects (Sentinel:
 * asking the sentinels again), which is what redis-py's failed `check_health` leads to.
 */
export interface HealthCheckOptions {
  /** Seconds between checks; 0 disables them. */
  interval: number;
  /** Extra time a PING may take on this connection (the BRPOP timeout on a consumer's), ms. */
  graceMs?: number;
  /** Told before a stale connection is dropped. */
  onStale?: (waitedMs: number) => void;
  /** Monotonic clock (ms); injectable for tests. */
  now?: () => number;
  setInterval?: (fn: () => void, ms: number) => { unref?: () => void };
  clearInterval?: (h: unknown) => void;
}

/** Start the checks on `client`; returns the function that stops them (call it on close). */
export function watchHealth(client: Redis, o: HealthCheckOptions): () => void {
  if (!(o.interval > 0)) return () => undefined;
  const everyMs = o.interval * 1000;
  const now = o.now ?? ((): number => performance.now());
  const every = o.setInterval ?? ((fn, ms) => setInterval(fn, ms));
  const clear =
    o.clearInterval ??
    ((h) => {
      clearInterval(h as NodeJS.Timeout);
    });
  let sentAt: number | undefined;
  // A reconnect starts afresh: the PING of the dropped connection no longer counts.
  let generation = 0;
  const onReady = (): void => {
    generation++;
    sentAt = undefined;
  };
  client.on('ready', onReady);
  const tick = (): void => {
    if (client.status !== 'ready') return;
    if (sentAt !== undefined) {
      const waited = now() - sentAt;
      if (waited >= everyMs + (o.graceMs ?? 0)) {
        o.onStale?.(waited);
        sentAt = undefined;
        generation++;
        client.disconnect(true);
      }
      return;
    }
    const mine = generation;
    sentAt = now();
    client.ping().then(
      () => {
        if (mine === generation) sentAt = undefined;
      },
      () => {
        // A failed PING: the connection's own error handling (reconnect) takes over.
        if (mine === generation) sentAt = undefined;
      },
    );
  };
  const handle = every(tick, everyMs);
  handle.unref?.();
  return () => {
    clear(handle);
    client.off('ready', onReady);
  };
}
