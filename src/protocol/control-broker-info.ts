import type { PyValue } from '../serialization/py-values';
import { PyFloat } from '../serialization/py-values';

/**
 * `stats()['broker']`: kombu's `Connection.info()` without the password
 * (`celery/worker/consumer/connection.py`, `Connection.info`), as a worker's connection reports
 * it: `connect_timeout` is `broker_connection_timeout` (4), `heartbeat` `broker_heartbeat`
 * (120.0). kombu ≥5.6 adds `credential_provider` (checked against kombu 5.2–5.7).
 */
export function brokerInfo(
  url: string,
  o: { credentialProvider: boolean; connectTimeout?: number; heartbeat?: number },
): Record<string, PyValue> {
  const u = parseBrokerUrl(url);
  const isAmqp = u.transport === 'amqp' || u.transport === 'amqps' || u.transport === 'pyamqp';
  const info: Record<string, PyValue> = {
    hostname: u.hostname,
    userid: u.userid ?? (isAmqp ? 'guest' : null),
    virtual_host: u.vhost,
    port: u.port,
    insist: false,
    ssl: u.transport === 'amqps' || u.transport === 'rediss' ? u.ssl : false,
    transport: u.transport === 'pyamqp' ? 'amqp' : u.transport,
    connect_timeout: o.connectTimeout ?? 4,
    transport_options: {},
    login_method: isAmqp ? 'PLAIN' : null,
    uri_prefix: null,
    heartbeat: new PyFloat(o.heartbeat ?? 120),
    failover_strategy: 'round-robin',
    alternates: [],
  };
  if (o.credentialProvider) info.credential_provider = null;
  return info;
}

interface ParsedBrokerUrl {
  transport: string;
  hostname: string;
  port: number;
  userid: string | null;
  password: string | null;
  vhost: string;
  ssl: PyValue;
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = {
  redis: 6379,
  rediss: 6379,
  amqp: 5672,
  amqps: 5671,
  pyamqp: 5672,
};

/** `kombu/utils/url.py`, `parse_url` (the parts `Connection.info` shows). */
export function parseBrokerUrl(url: string): ParsedBrokerUrl {
  const m =
    /^([a-z0-9+.-]+):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^:/?]*)(?::(\d+))?(\/[^?]*)?(\?.*)?$/i.exec(
      url,
    );
  if (!m) {
    return {
      transport: url.split(':')[0] ?? url,
      hostname: 'localhost',
      port: 0,
      userid: null,
      password: null,
      vhost: '/',
      ssl: false,
    };
  }
  const transport = (m[1] ?? '').toLowerCase();
  const path = m[6] ?? '';
  const vhost = path.length > 1 ? decodeURIComponent(path.slice(1)) : '/';
  const query = new URLSearchParams((m[7] ?? '').slice(1));
  const ssl: Record<string, PyValue> = {};
  const reqs = query.get('ssl_cert_reqs');
  if (reqs !== null)
    ssl.ssl_cert_reqs = { none: 0, optional: 1, required: 2 }[reqs.toLowerCase()] ?? 2;
  return {
    transport,
    hostname: m[4] === undefined || m[4] === '' ? 'localhost' : decodeURIComponent(m[4]),
    port: m[5] === undefined ? (DEFAULT_PORTS[transport] ?? 0) : Number(m[5]),
    userid: m[2] === undefined || m[2] === '' ? null : decodeURIComponent(m[2]),
    password: m[3] === undefined || m[3] === '' ? null : decodeURIComponent(m[3]),
    vhost,
    ssl: Object.keys(ssl).length > 0 ? ssl : true,
  };
}

/**
 * `Connection(url).as_uri(mask='********')` as `inspect conf` shows `broker_url`
 * (`celery/app/utils.py`, `filter_hidden_settings`): default user and port filled in; kombu
 * 5.7 masks a password even when there is none (`redis://:********@h:6379/0`).
 */
export function maskBrokerUrl(url: string, alwaysMask: boolean): string {
  const u = parseBrokerUrl(url);
  if (!(u.transport in DEFAULT_PORTS)) return url;
  const isAmqp = u.transport.startsWith('amqp') || u.transport === 'pyamqp';
  const user = u.userid ?? (isAmqp ? 'guest' : null);
  const pw = u.password ?? (isAmqp ? 'guest' : null);
  const auth = `${user ?? ''}${pw !== null || alwaysMask ? ':********' : ''}`;
  const vhost = u.vhost === '/' ? '/' : encodeURIComponent(u.vhost);
  return `${u.transport}://${auth === '' ? '' : `${auth}@`}${u.hostname}:${String(u.port)}/${vhost}`;
}

/** `kombu/utils/url.py`, `sanitize_url(url, mask='********')` (`result_backend` in `conf`). */
export function sanitizeUrl(url: string): string {
  const m = /^([a-z0-9+.-]+:\/\/)([^:@/]*)(?::([^@/]*))?@(.*)$/i.exec(url);
  const out = m
    ? `${m[1] ?? ''}${m[2] ?? ''}${m[3] === undefined ? '' : ':********'}@${m[4] ?? ''}`
    : url;
  return /^[a-z0-9+.-]+:\/\/[^/]*$/i.test(out) ? `${out}/` : out;
}
