import { CeleryError } from '../errors/errors';

/**
 * Broker URLs as Celery users write them, parsed the way kombu does (`kombu/utils/url.py`,
 * `url_to_parts`; `kombu/connection.py`, `Connection.__init__`; transport defaults from
 * `kombu/transport/pyamqp.py`, `Transport.default_connection_params`, and
 * `kombu/transport/redis.py`, `Channel._connparams` / `_prepare_virtual_host`). Pure.
 */

/** An AMQP 0-9-1 broker (`amqp://`, `pyamqp://`, `amqps://`). */
export interface AmqpBrokerUrl {
  transport: 'amqp';
  /** The scheme as written (`amqp`, `pyamqp`, `amqps`). */
  scheme: string;
  tls: boolean;
  /** `localhost` is rewritten to `127.0.0.1`, as kombu does. */
  hostname: string;
  port: number;
  username: string;
  password: string;
  /** Virtual host; `amqp://h/`, `amqp://h//` and `amqp://h` all mean `/`. */
  vhost: string;
  /** Query options as strings (`heartbeat`, `ssl_*`, …); blank values dropped like `parse_qsl`. */
  query: Record<string, string>;
}

/** A Redis broker (`redis://`, `rediss://`, `redis+socket://`). */
export interface RedisBrokerUrl {
  transport: 'redis';
  scheme: string;
  tls: boolean;
  /** TCP host (default `127.0.0.1`); absent for unix sockets. */
  hostname: string | undefined;
  port: number | undefined;
  /** Unix socket path for `redis+socket:///path`. */
  socketPath: string | undefined;
  username: string | undefined;
  password: string | undefined;
  db: number;
  query: Record<string, string>;
  /**
   * `sentinel://h:26379;sentinel://h2:26380`: every sentinel of the list, in order
   * (`kombu/transport/redis.py`, `SentinelChannel._sentinel_managed_pool` reads `client.alt`).
   * The master comes from them under transport option `master_name`.
   */
  sentinels?: readonly { host: string; port: number }[];
}

/**
 * Amazon SQS (`sqs://`, `SQS://`): kombu reads only the credentials and an optional endpoint from
 * the URL (`kombu/transport/SQS`, `Channel.sqs` uses `conninfo.userid/password`; `endpoint_url`
 * is `http[s]://hostname[:port]` when a hostname is given). Everything else is a transport option.
 */
export interface SqsBrokerUrl {
  transport: 'sqs';
  scheme: string;
  /** AWS access key id (`conninfo.userid`), percent-decoded; absent → the usual AWS sources. */
  username: string | undefined;
  password: string | undefined;
  /** A custom endpoint host (moto, ElasticMQ, a VPC endpoint); absent → AWS for the region. */
  hostname: string | undefined;
  port: number | undefined;
  query: Record<string, string>;
}

export type BrokerUrl = AmqpBrokerUrl | RedisBrokerUrl | SqsBrokerUrl;

/** Raw parts, as kombu's `urlparts` named tuple (`None` → `undefined`). */
export interface UrlParts {
  scheme: string;
  hostname: string | undefined;
  port: number | undefined;
  username: string | undefined;
  password: string | undefined;
  path: string | undefined;
  query: Record<string, string>;
}

function configError(message: string, cause?: unknown): CeleryError {
  return new CeleryError('E_CONFIG', message, cause === undefined ? undefined : { cause });
}

function unquote(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    // Python's unquote leaves malformed escapes as they are instead of failing.
    return s.replace(/%([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
}

/** `urllib.parse.parse_qsl` + `dict()`: `+` is a space, blank values dropped, last key wins. */
function parseQuery(q: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of q.split(/[&]/)) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const value = unquote(pair.slice(eq + 1).replace(/\+/g, ' '));
    if (value === '') continue;
    out[unquote(pair.slice(0, eq).replace(/\+/g, ' '))] = value;
  }
  return out;
}

/**
 * `kombu/utils/url.py`, `url_to_parts`: strip the scheme, re-parse with HTTP semantics, drop one
 * leading `/` from the path, percent-decode everything, empty strings become `undefined`.
 */
export function urlToParts(url: string): UrlParts {
  const colon = url.indexOf('://');
  if (colon < 0) throw configError(`not a URL: ${url}`);
  const scheme = url.slice(0, colon).toLowerCase();
  let rest = url.slice(colon + 3);
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  const netEnd = rest.search(/[/?]/);
  const netloc = netEnd < 0 ? rest : rest.slice(0, netEnd);
  const after = netEnd < 0 ? '' : rest.slice(netEnd);
  const qi = after.indexOf('?');
  let path = qi < 0 ? after : after.slice(0, qi);
  const queryText = qi < 0 ? '' : after.slice(qi + 1);
  // urlparse: userinfo is everything before the LAST '@'; user/password split at the first ':'.
  const at = netloc.lastIndexOf('@');
  const userinfo = at < 0 ? undefined : netloc.slice(0, at);
  const hostport = at < 0 ? netloc : netloc.slice(at + 1);
  let user: string | undefined;
  let pass: string | undefined;
  if (userinfo !== undefined) {
    const c = userinfo.indexOf(':');
    user = c < 0 ? userinfo : userinfo.slice(0, c);
    pass = c < 0 ? undefined : userinfo.slice(c + 1);
  }
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([^\]]*)\](?::(.*))?$/.exec(hostport);
  if (v6) {
    host = v6[1] ?? '';
    portText = v6[2];
  } else {
    const c = hostport.indexOf(':');
    host = c < 0 ? hostport : hostport.slice(0, c);
    portText = c < 0 ? undefined : hostport.slice(c + 1);
  }
  let port: number | undefined;
  if (portText !== undefined && portText !== '') {
    if (!/^\d+$/.test(portText) || Number(portText) > 65535) {
      throw configError(`Port could not be cast to integer value as '${portText}'`);
    }
    port = Number(portText);
  }
  if (path.startsWith('/')) path = path.slice(1);
  const orUndef = (s: string | undefined): string | undefined =>
    s === undefined || s === '' ? undefined : unquote(s) || undefined;
  return {
    scheme,
    // urlparse's `.hostname` is lower-cased.
    hostname: orUndef(host.toLowerCase()),
    port,
    username: orUndef(user),
    password: orUndef(pass),
    path: orUndef(path),
    query: parseQuery(queryText),
  };
}

const AMQP_SCHEMES = new Set(['amqp', 'pyamqp', 'amqps']);
const REDIS_SCHEMES = new Set(['redis', 'rediss', 'sentinel']);

function parseAmqp(parts: UrlParts): AmqpBrokerUrl {
  const tls = parts.scheme === 'amqps' || parts.query.ssl === 'true' || parts.query.ssl === '1';
  // `default_connection_params` replaces every falsy field; `localhost` becomes 127.0.0.1.
  const hostname = parts.hostname ?? 'localhost';
  return {
    transport: 'amqp',
    scheme: parts.scheme,
    tls,
    hostname: hostname === 'localhost' ? '127.0.0.1' : hostname,
    port: parts.port ?? (tls ? 5671 : 5672),
    username: parts.username ?? 'guest',
    password: parts.password ?? 'guest',
    // `Connection._init_params`: `virtual_host or '/'`.
    vhost: parts.path ?? '/',
    query: parts.query,
  };
}

/** `Channel._prepare_virtual_host`: '' or '/' → 0, one leading '/' dropped, else an integer. */
function redisDb(vhost: string | undefined): number {
  let v = vhost ?? '';
  if (v === '' || v === '/') return 0;
  if (v.startsWith('/')) v = v.slice(1);
  if (!/^\s*[+-]?\d+\s*$/.test(v)) {
    throw configError(`Database is int between 0 and limit - 1, not ${v}`);
  }
  return Number(v);
}

function parseRedis(parts: UrlParts, socket: boolean): RedisBrokerUrl {
  const { query } = parts;
  if (socket) {
    // `Channel._connparams`: 'socket' scheme → path '/' + path; query (incl. virtual_host) merged.
    return {
      transport: 'redis',
      scheme: 'redis+socket',
      tls: false,
      hostname: undefined,
      port: undefined,
      socketPath: `/${parts.path ?? ''}`,
      username: parts.username,
      password: parts.password,
      db: redisDb(query.virtual_host),
      query,
    };
  }
  const sentinel = parts.scheme === 'sentinel';
  const hostname = parts.hostname ?? '127.0.0.1';
  // `SentinelTransport.default_port` is 26379.
  const port = parts.port ?? (sentinel ? 26379 : 6379);
  return {
    transport: 'redis',
    scheme: parts.scheme,
    tls: parts.scheme === 'rediss',
    ...(sentinel ? { sentinels: [{ host: hostname, port }] } : {}),
    hostname,
    port,
    socketPath: undefined,
    username: parts.username,
    password: parts.password,
    db: redisDb(parts.path),
    query,
  };
}

/**
 * Parse one broker URL. A `;`-separated failover list (`Connection.__init__`) yields its first
 * entry; use {@link parseBrokerUrls} for all of them.
 */
export function parseBrokerUrl(url: string): BrokerUrl {
  const all = parseBrokerUrls(url);
  const first = all[0];
  if (first === undefined) throw configError('empty broker URL');
  if (first.transport === 'redis' && first.scheme === 'sentinel') {
    // Every `sentinel://` entry of the list is one sentinel of the same master.
    const sentinels = all.flatMap((u) => (u.transport === 'redis' ? (u.sentinels ?? []) : []));
    return { ...first, sentinels };
  }
  return first;
}

/** Parse a `;`-separated failover list (`kombu/connection.py`, `Connection.__init__`, `alt`). */
export function parseBrokerUrls(url: string): BrokerUrl[] {
  const urls = url
    .split(';')
    .map((u) => u.trim())
    .filter((u) => u !== '');
  return urls.map(parseOne);
}

function parseOne(url: string): BrokerUrl {
  const parts = urlToParts(url);
  // `sqla+mysql://…`-style: the part before '+' is the transport, the rest is its hostname.
  const plus = parts.scheme.indexOf('+');
  if (plus >= 0) {
    const transport = parts.scheme.slice(0, plus);
    const inner = parts.scheme.slice(plus + 1);
    if (transport === 'redis' && inner === 'socket') {
      return parseRedis(urlToParts(url.slice(plus + 1)), true);
    }
    throw configError(`unsupported broker transport ${parts.scheme}`);
  }
  if (AMQP_SCHEMES.has(parts.scheme)) return parseAmqp(parts);
  if (REDIS_SCHEMES.has(parts.scheme)) return parseRedis(parts, false);
  if (parts.scheme === 'sqs') {
    const { username, password, hostname, port, query } = parts;
    return { transport: 'sqs', scheme: 'sqs', username, password, hostname, port, query };
  }
  throw configError(`unsupported broker transport ${parts.scheme}`);
}

/** The broker URL from the environment (`CELERY_BROKER_URL`, as Celery's `broker_url` default). */
export function brokerUrlFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  fallback = 'amqp://guest:guest@localhost:5672//',
): string {
  const v = env.CELERY_BROKER_URL;
  return v === undefined || v === '' ? fallback : v;
}

/**
 * Mask the password, like `kombu/utils/url.py`, `maybe_sanitize_url` (`**`); in a failover list
 * (`amqp://u:p@h1//;amqp://u:p@h2//`) every entry's.
 */
export function sanitizeBrokerUrl(url: string): string {
  return url
    .split(';')
    .map((u) => u.replace(/^(\s*[a-z0-9+.-]+:\/\/[^:@/]*:)[^@/]*@/i, '$1**@'))
    .join(';');
}
