import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { checkServerIdentity, type ConnectionOptions } from 'node:tls';
import { CeleryError } from '../../errors/errors';
import type { RedisBrokerUrl } from '../url';
import { secondsToMs, type RedisTransportOptions } from './transport-options';

/**
 * ioredis options for one Redis connection, from the URL, the transport options and the
 * `broker_use_ssl` / `redis_backend_use_ssl` dict, resolved as kombu (`Channel._connparams`,
 * `Connection._init_params`) and Celery (`RedisBackend.__init__`, `_params_from_url`) do.
 */

/** `ssl_*` keys of `broker_use_ssl` / `redis_backend_use_ssl` and of the URL query. */
export interface RedisSslOptions {
  ssl_cert_reqs?:
    'required' | 'optional' | 'none' | 'CERT_REQUIRED' | 'CERT_OPTIONAL' | 'CERT_NONE';
  ssl_ca_certs?: string;
  ssl_certfile?: string;
  ssl_keyfile?: string;
  ssl_check_hostname?: boolean;
}

const SSL_KEYS = [
  'ssl_cert_reqs',
  'ssl_ca_certs',
  'ssl_certfile',
  'ssl_keyfile',
  'ssl_check_hostname',
] as const;

function configError(message: string, cause?: unknown): CeleryError {
  return new CeleryError('E_CONFIG', message, cause === undefined ? undefined : { cause });
}

/** `kombu/utils/url.py`, `parse_ssl_cert_reqs`. */
function certReqs(v: unknown, setting: string): 'required' | 'optional' | 'none' {
  switch (v) {
    case 'required':
    case 'CERT_REQUIRED':
      return 'required';
    case 'optional':
    case 'CERT_OPTIONAL':
      return 'optional';
    case 'none':
    case 'CERT_NONE':
      return 'none';
    default:
      throw configError(
        `${setting}: ssl_cert_reqs must be 'required', 'optional' or 'none' (CERT_*), got ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`,
      );
  }
}

function readPem(path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw configError(`${key}: cannot read ${path}`, e);
  }
}

/** The ioredis constructor options this module sets (a subset of ioredis' `RedisOptions`). */
export interface RedisConnectOptions {
  host?: string;
  port?: number;
  path?: string;
  db: number;
  username?: string;
  password?: string;
  tls?: ConnectionOptions;
  protocol: 2;
  lazyConnect: true;
  connectTimeout?: number;
  commandTimeout?: number;
  /** `false` (typed as number for ioredis): no TCP keepalive (ioredis' default is on, 30 s). */
  keepAlive?: number;
  connectionName?: string;
  sentinels?: { host: string; port: number }[];
  name?: string;
  sentinelPassword?: string;
  sentinelUsername?: string;
  enableTLSForSentinelMode?: boolean;
  failoverDetector?: boolean;
  reconnectOnError?: (err: Error) => boolean | 2;
}

/**
 * A command the old master refused after a `SENTINEL FAILOVER` demoted it (`READONLY You can't
 * write against a read only replica`): reconnect through the sentinels and send it again, as
 * redis-py's `SentinelManagedConnection` turns `ReadOnlyError` into a `ConnectionError` that
 * kombu retries. The refused write did not happen, so sending it again runs it once.
 */
export function reconnectOnReadonly(err: Error): boolean | 2 {
  return err.message.startsWith('READONLY') ? 2 : false;
}

/** What decides one connection's options. */
export interface ConnectInput {
  url: RedisBrokerUrl;
  transport: RedisTransportOptions;
  /** `broker_use_ssl` / `redis_backend_use_ssl`; `true` alone does nothing on Redis (kombu). */
  ssl?: RedisSslOptions | Readonly<Record<string, unknown>> | boolean | null;
  /** `'backend'`: Celery requires `ssl_cert_reqs` on `rediss://` (`E_REDIS_SSL_CERT_REQS_MISSING_INVALID`). */
  role: 'broker' | 'backend';
  /** Setting name used in errors. */
  setting: string;
}

/**
 * Node TLS options, or `undefined` for plain TCP. URL query `ssl_*` win over the settings dict
 * (both kombu and Celery merge the query last). A `rediss://` broker without options is
 * `CERT_NONE` (kombu warns "defaulting to insecure SSL behaviour"); with a dict but no
 * `ssl_cert_reqs`, redis-py's `SSLConnection` default `required` applies.
 */
export function tlsOptions(input: ConnectInput): ConnectionOptions | undefined {
  const { url, role, setting } = input;
  const dict = typeof input.ssl === 'object' && input.ssl !== null ? input.ssl : undefined;
  const merged: Record<string, unknown> = { ...dict };
  for (const k of SSL_KEYS) {
    const q = url.query[k];
    if (q !== undefined) merged[k] = k === 'ssl_check_hostname' ? q.toLowerCase() !== 'false' : q;
  }
  const queryHasSsl = SSL_KEYS.some((k) => url.query[k] !== undefined);
  if (!url.tls && dict === undefined) {
    if (queryHasSsl && url.scheme === 'redis' && role === 'backend') {
      // Celery: E_REDIS_SSL_PARAMS_AND_SCHEME_MISMATCH.
      throw configError(
        'SSL connection parameters have been provided but the specified URL scheme is redis://. A Redis SSL connection URL should use the scheme rediss://.',
      );
    }
    return undefined;
  }
  if (merged.ssl_cert_reqs === undefined && role === 'backend' && url.tls && dict === undefined) {
    throw configError(
      `${setting}: a rediss:// URL must have parameter ssl_cert_reqs and this must be set to CERT_REQUIRED, CERT_OPTIONAL, or CERT_NONE`,
    );
  }
  const reqs =
    merged.ssl_cert_reqs === undefined
      ? dict === undefined
        ? 'none'
        : 'required'
      : certReqs(merged.ssl_cert_reqs, setting);
  const out: ConnectionOptions = { rejectUnauthorized: reqs !== 'none' };
  if (typeof merged.ssl_ca_certs === 'string')
    out.ca = readPem(merged.ssl_ca_certs, 'ssl_ca_certs');
  if (typeof merged.ssl_certfile === 'string')
    out.cert = readPem(merged.ssl_certfile, 'ssl_certfile');
  if (typeof merged.ssl_keyfile === 'string') out.key = readPem(merged.ssl_keyfile, 'ssl_keyfile');
  const host = url.hostname ?? '127.0.0.1';
  if (isIP(host) === 0) out.servername = host;
  // redis-py 8: `check_hostname = ssl_check_hostname if cert_reqs != CERT_NONE else False`.
  const checkHost = reqs !== 'none' && merged.ssl_check_hostname !== false;
  out.checkServerIdentity = checkHost
    ? (_h, cert) => checkServerIdentity(host, cert)
    : () => undefined;
  return out;
}

/**
 * Connection options shared by every connection of a broker or backend. `sentinel://` lists
 * become ioredis Sentinel mode: the master is asked of the sentinels under `master_name`
 * (`SentinelChannel._sentinel_managed_pool`: `master_for(master_name, password=…)`, the
 * sentinels themselves with `sentinel_kwargs`), and asked again after every disconnect, which
 * is how a failover is followed.
 */
export function redisConnectionOptions(input: ConnectInput): RedisConnectOptions {
  const { url, transport: t } = input;
  const tls = tlsOptions(input);
  const common: RedisConnectOptions = {
    db: url.db,
    ...(url.username === undefined ? {} : { username: url.username }),
    ...(url.password === undefined ? {} : { password: url.password }),
    ...(tls === undefined ? {} : { tls }),
    // RESP2 as redis-py speaks it (design-notes §3.7).
    protocol: 2,
    lazyConnect: true,
  };
  const connectMs = secondsToMs(t.socket_connect_timeout);
  if (connectMs !== undefined) common.connectTimeout = connectMs;
  const commandMs = secondsToMs(t.socket_timeout);
  if (commandMs !== undefined) common.commandTimeout = commandMs;
  // ioredis keeps TCP keepalive on with a 30 s idle time unless `keepAlive` is not a number
  // (`Redis.connect`: `typeof options.keepAlive === "number"`). redis-py's `socket_keepalive`
  // sets SO_KEEPALIVE with the OS idle time: `0` asks Node for exactly that.
  if (t.socket_keepalive === true) common.keepAlive = 0;
  // ioredis' type says number; `false` is the value its runtime check turns off.
  if (t.socket_keepalive === false) common.keepAlive = false as unknown as number;
  if (typeof t.client_name === 'string') common.connectionName = t.client_name;
  if (url.sentinels !== undefined && url.sentinels.length > 0) {
    if (t.master_name === undefined) {
      throw configError(`${input.setting}: 'master_name' transport option must be specified.`);
    }
    const sk = t.sentinel_kwargs ?? {};
    return {
      ...common,
      sentinels: url.sentinels.map((s) => ({ host: s.host, port: s.port })),
      name: t.master_name,
      ...(typeof sk.password === 'string' ? { sentinelPassword: sk.password } : {}),
      ...(typeof sk.username === 'string' ? { sentinelUsername: sk.username } : {}),
      ...(tls === undefined ? {} : { enableTLSForSentinelMode: true }),
      // A planned failover leaves the old master up (demoted to a replica): connections that
      // never drop would stay on it, a pub/sub subscriber (the pidbox) deaf to the new master.
      // ioredis' detector watches the sentinels' `+switch-master` and reconnects every
      // connection, which redis-py gets from the READONLY/UNBLOCKED errors alone.
      failoverDetector: true,
      reconnectOnError: reconnectOnReadonly,
    };
  }
  return url.socketPath === undefined
    ? { ...common, host: url.hostname ?? '127.0.0.1', port: url.port ?? 6379 }
    : { ...common, path: url.socketPath };
}

/**
 * ioredis' Sentinel error for a round in which no sentinel answered ("All sentinels are
 * unreachable. Retrying from scratch after 10ms. Last error: …"), or `undefined` for any other
 * error. The retry note is dropped: whoever reports it decides whether another round comes.
 */
export function sentinelRoundError(e: Error): Error | undefined {
  if (!e.message.startsWith('All sentinels are unreachable')) return undefined;
  return new Error(e.message.replace(/ Retrying from scratch after \d+ms\./, ''), { cause: e });
}

/** The URL as Celery prints it, password masked (`maybe_sanitize_url`): the status target. */
export function maskedTarget(url: RedisBrokerUrl): string {
  const auth = url.password === undefined ? (url.username ?? '') : `${url.username ?? ''}:**`;
  const at = auth === '' ? '' : `${auth}@`;
  if (url.socketPath !== undefined) return `redis+socket://${at}${url.socketPath}`;
  if (url.sentinels !== undefined && url.sentinels.length > 0) {
    return url.sentinels
      .map((s, i) => `sentinel://${i === 0 ? at : ''}${s.host}:${String(s.port)}/${String(url.db)}`)
      .join(';');
  }
  return `${url.scheme}://${at}${url.hostname ?? '127.0.0.1'}:${String(url.port ?? 6379)}/${String(url.db)}`;
}
