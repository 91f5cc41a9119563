import { CeleryError } from '../../errors/errors';
import type { RedisTransportOptions } from '../../brokers/redis/transport-options';

/**
 * The Redis result backend's connection settings (`celery/backends/redis.py`,
 * `RedisBackend.__init__`): `redis_socket_timeout` (default 120.0), `redis_socket_connect_timeout`,
 * `redis_socket_keepalive`, `redis_retry_on_timeout`, `redis_max_connections`,
 * `redis_backend_health_check_interval`. Celery reads these settings, not
 * `result_backend_transport_options`, for the connection; a transport option of the same meaning
 * (`socket_timeout` …) is used only where the setting is not given.
 */
export interface RedisBackendConnectionSettings {
  socketTimeout?: number | null | undefined;
  socketConnectTimeout?: number | null | undefined;
  socketKeepalive?: boolean | null | undefined;
  retryOnTimeout?: boolean | null | undefined;
  maxConnections?: number | null | undefined;
  healthCheckInterval?: number | null | undefined;
}

/** Celery's default `redis_socket_timeout` (`celery/app/defaults.py`). */
export const DEFAULT_REDIS_SOCKET_TIMEOUT = 120.0;

const NAMES: Readonly<Record<keyof RedisBackendConnectionSettings, string>> = {
  socketTimeout: 'redis_socket_timeout',
  socketConnectTimeout: 'redis_socket_connect_timeout',
  socketKeepalive: 'redis_socket_keepalive',
  retryOnTimeout: 'redis_retry_on_timeout',
  maxConnections: 'redis_max_connections',
  healthCheckInterval: 'redis_backend_health_check_interval',
};

function check(s: RedisBackendConnectionSettings): void {
  for (const [k, setting] of Object.entries(NAMES) as [
    keyof RedisBackendConnectionSettings,
    string,
  ][]) {
    const v = s[k];
    if (v === undefined || v === null) continue;
    const isBool = k === 'socketKeepalive' || k === 'retryOnTimeout';
    const ok = isBool
      ? typeof v === 'boolean'
      : typeof v === 'number' && Number.isFinite(v) && v >= 0;
    if (!ok) {
      const shown = typeof v === 'string' ? JSON.stringify(v) : String(v);
      throw new CeleryError(
        'E_CONFIG',
        `${setting} must be ${isBool ? 'true or false' : 'a non-negative number'}, got ${shown}`,
      );
    }
  }
}

/**
 * The transport options the backend's connections are built from: the settings above over
 * `result_backend_transport_options`. `socket_timeout and float(socket_timeout)` in Celery makes
 * 0 mean "no timeout", as does `None`.
 */
export function backendConnectionTransport(
  transport: RedisTransportOptions,
  s: RedisBackendConnectionSettings = {},
): RedisTransportOptions {
  check(s);
  const out: RedisTransportOptions = { ...transport };
  const timeout =
    s.socketTimeout !== undefined
      ? s.socketTimeout
      : (transport.socket_timeout ?? DEFAULT_REDIS_SOCKET_TIMEOUT);
  out.socket_timeout = timeout === 0 ? null : timeout;
  if (s.socketConnectTimeout !== undefined)
    out.socket_connect_timeout = s.socketConnectTimeout === 0 ? null : s.socketConnectTimeout;
  if (s.socketKeepalive !== undefined && s.socketKeepalive !== null)
    out.socket_keepalive = s.socketKeepalive;
  if (s.retryOnTimeout !== undefined && s.retryOnTimeout !== null)
    out.retry_on_timeout = s.retryOnTimeout;
  if (s.maxConnections !== undefined && s.maxConnections !== null)
    out.max_connections = s.maxConnections;
  // Celery: `if health_check_interval:` — off unless set (the transport option is kombu's and
  // defaults to 25 s only on the broker).
  out.health_check_interval = s.healthCheckInterval ?? transport.health_check_interval ?? 0;
  return out;
}
