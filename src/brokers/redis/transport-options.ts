import { CeleryError } from '../../errors/errors';

/**
 * `broker_transport_options` / `result_backend_transport_options` for the Redis transport, with
 * kombu's own snake_case keys (`kombu/transport/redis.py`, `Channel.from_transport_options`,
 * `SentinelChannel.from_transport_options`; `kombu/connection.py` retry options). Validated at
 * start: an unknown key or a value of the wrong type is a `CeleryError` (`E_CONFIG`) naming the
 * option, where kombu would silently ignore a typo.
 */
export interface RedisTransportOptions {
  global_keyprefix?: string;
  sep?: string;
  priority_steps?: readonly number[];
  queue_order_strategy?: 'round_robin' | 'priority' | 'sorted';
  visibility_timeout?: number;
  unacked_key?: string;
  unacked_index_key?: string;
  unacked_mutex_key?: string;
  unacked_mutex_expire?: number;
  unacked_restore_limit?: number | null;
  unacked_restore_interval?: number;
  unacked_restore_throttle?: number;
  fanout_prefix?: boolean | string;
  fanout_patterns?: boolean;
  socket_timeout?: number | null;
  socket_connect_timeout?: number | null;
  socket_keepalive?: boolean | null;
  health_check_interval?: number;
  max_connections?: number;
  retry_on_timeout?: boolean | null;
  client_name?: string | null;
  polling_interval?: number | null;
  ack_emulation?: boolean;
  body_encoding?: string;
  deadletter_queue?: string | null;
  max_retries?: number | null;
  interval_start?: number;
  interval_step?: number;
  interval_max?: number;
  /** Sentinel: the monitored master's name (required for `sentinel://`). */
  master_name?: string;
  min_other_sentinels?: number;
  /** Sentinel: connection options for the sentinels themselves (`password`, `username`, …). */
  sentinel_kwargs?: Readonly<Record<string, unknown>>;
  sentinel_fanout_compat?: boolean;
  /**
   * celery-wire only (kombu has no such option and ignores it): after a publish batch that
   * wrote to a queue, `WAIT <publish_wait_replicas> <publish_wait_timeout·1000>`, and reject the
   * publish unless that many replicas acknowledged it. Redis replicates asynchronously, so
   * without it a publish acknowledged just before a master dies can be missing on the replica
   * Sentinel promotes (docs/redis-estates.md, "Failover and replication").
   */
  publish_wait_replicas?: number;
  /** Seconds the `WAIT` of {@link publish_wait_replicas} may take (default 1). */
  publish_wait_timeout?: number;
  /** Result backend only (`celery/backends/redis.py`): passed through, not interpreted. */
  retry_policy?: Readonly<Record<string, unknown>>;
  result_chord_ordered?: boolean;
}

type Kind = 'string' | 'number' | 'count' | 'boolean' | 'steps' | 'dict' | 'strategy' | 'prefix';

/** Option → accepted type, and whether `None`/`null` is allowed. */
const SCHEMA: Readonly<Record<keyof RedisTransportOptions, readonly [Kind, boolean]>> = {
  global_keyprefix: ['string', false],
  sep: ['string', false],
  priority_steps: ['steps', false],
  queue_order_strategy: ['strategy', false],
  visibility_timeout: ['number', false],
  unacked_key: ['string', false],
  unacked_index_key: ['string', false],
  unacked_mutex_key: ['string', false],
  unacked_mutex_expire: ['number', false],
  unacked_restore_limit: ['number', true],
  unacked_restore_interval: ['number', false],
  unacked_restore_throttle: ['number', false],
  fanout_prefix: ['prefix', false],
  fanout_patterns: ['boolean', false],
  socket_timeout: ['number', true],
  socket_connect_timeout: ['number', true],
  socket_keepalive: ['boolean', true],
  health_check_interval: ['number', false],
  max_connections: ['number', false],
  retry_on_timeout: ['boolean', true],
  client_name: ['string', true],
  polling_interval: ['number', true],
  ack_emulation: ['boolean', false],
  body_encoding: ['string', false],
  deadletter_queue: ['string', true],
  max_retries: ['number', true],
  interval_start: ['number', false],
  interval_step: ['number', false],
  interval_max: ['number', false],
  master_name: ['string', false],
  min_other_sentinels: ['number', false],
  sentinel_kwargs: ['dict', false],
  sentinel_fanout_compat: ['boolean', false],
  publish_wait_replicas: ['count', false],
  publish_wait_timeout: ['number', false],
  retry_policy: ['dict', false],
  result_chord_ordered: ['boolean', false],
};

const STRATEGIES = new Set(['round_robin', 'priority', 'sorted']);

function bad(setting: string, key: string, want: string, got: unknown): CeleryError {
  const shown = typeof got === 'string' ? JSON.stringify(got) : String(got);
  return new CeleryError('E_CONFIG', `${setting}: option '${key}' must be ${want}, got ${shown}`);
}

function check(setting: string, key: string, kind: Kind, v: unknown): void {
  switch (kind) {
    case 'string':
      if (typeof v !== 'string') throw bad(setting, key, 'a string', v);
      return;
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
        throw bad(setting, key, 'a non-negative number', v);
      return;
    case 'count':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
        throw bad(setting, key, 'an integer ≥ 1', v);
      return;
    case 'boolean':
      if (typeof v !== 'boolean') throw bad(setting, key, 'true or false', v);
      return;
    case 'prefix':
      if (typeof v !== 'boolean' && typeof v !== 'string')
        throw bad(setting, key, 'true, false or a string', v);
      return;
    case 'dict':
      if (typeof v !== 'object' || v === null || Array.isArray(v))
        throw bad(setting, key, 'an object (a dict)', v);
      return;
    case 'steps': {
      const ok =
        Array.isArray(v) &&
        v.length > 0 &&
        v.every((s) => Number.isInteger(s) && (s as number) >= 0) &&
        v.every((s, i) => i === 0 || (s as number) > (v[i - 1] as number));
      if (!ok) throw bad(setting, key, 'an ascending list of integers ≥ 0', v);
      return;
    }
    case 'strategy':
      // kombu's `cycle_by_name` aliases (`kombu/utils/scheduling.py`, CYCLE_ALIASES).
      if (typeof v !== 'string' || !STRATEGIES.has(v))
        throw bad(setting, key, "one of 'round_robin', 'priority', 'sorted'", v);
      return;
  }
}

/**
 * Validate a transport options dict; `setting` names it in errors
 * (`broker_transport_options`, `result_backend_transport_options`).
 */
export function parseRedisTransportOptions(
  raw: unknown,
  setting = 'broker_transport_options',
): RedisTransportOptions {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new CeleryError('E_CONFIG', `${setting} must be an object (a dict)`);
  }
  for (const [key, v] of Object.entries(raw)) {
    const spec = (SCHEMA as Record<string, readonly [Kind, boolean] | undefined>)[key];
    if (spec === undefined) {
      throw new CeleryError(
        'E_CONFIG',
        `${setting}: unknown Redis transport option '${key}' (kombu's names are snake_case)`,
      );
    }
    if (v === undefined || (v === null && spec[1])) continue;
    check(setting, key, spec[0], v);
  }
  return raw;
}

/** Seconds → milliseconds for timeouts given as kombu floats (`None` → undefined). */
export function secondsToMs(s: number | null | undefined): number | undefined {
  return s === undefined || s === null ? undefined : Math.round(s * 1000);
}
