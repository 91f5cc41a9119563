import { CeleryError } from '../errors/errors';
import { parseBrokerUrl, type RedisBrokerUrl } from '../brokers/url';

/**
 * Result backend URLs as Celery resolves them (`celery/app/backends.py`, `by_url` / `by_name`):
 * the backend is the scheme up to `+` (`redis+socket://` → `redis`), or an alias without `://`
 * (`rpc`, `disabled`). Connection parts of Redis URLs are parsed like kombu's (`_parse_url`).
 */
export type BackendUrl =
  | { kind: 'redis'; url: string; redis: RedisBrokerUrl }
  | { kind: 'rpc'; url: string }
  | { kind: 'disabled'; url: string }
  | { kind: 'database'; url: string };

function configError(message: string): CeleryError {
  return new CeleryError('E_CONFIG', message);
}

/** Parse `result_backend`; `undefined`/empty means no backend (`DisabledBackend`). */
export function parseBackendUrl(url: string | null | undefined): BackendUrl {
  const text = (url ?? '').trim();
  if (text === '') return { kind: 'disabled', url: 'disabled://' };
  const sep = text.indexOf('://');
  const scheme = (sep < 0 ? text : text.slice(0, sep)).toLowerCase();
  const backend = scheme.split('+')[0] ?? scheme;
  switch (backend) {
    case 'redis':
    case 'rediss':
    case 'sentinel': {
      // `sentinel://h:26379;sentinel://h2:26380` is Celery's `SentinelBackend`.
      if (sep < 0) return parseBackendUrl(`${backend}://`);
      const parsed = parseBrokerUrl(text);
      if (parsed.transport !== 'redis') throw configError(`not a Redis URL: ${text}`);
      return { kind: 'redis', url: text, redis: parsed };
    }
    case 'rpc':
      // `RPCBackend.as_uri` is always `rpc://`: the broker connection is the app's.
      return { kind: 'rpc', url: 'rpc://' };
    case 'disabled':
      return { kind: 'disabled', url: 'disabled://' };
    // `db+postgresql://…` (`celery/app/backends.py`, `by_url`: `db` → `DatabaseBackend`);
    // the bare alias `database` takes `database_url` (resolved by the caller). `django-db`
    // (django-celery-results): Node reaches Django's database by URL,
    // `django-db+postgresql://…` / `django-db+mysql://…` (docs/database-backends.md).
    case 'db':
    case 'django-db':
    case 'database':
      return { kind: 'database', url: text };
    default:
      throw configError(`Unsupported result backend ${JSON.stringify(backend)} (${text})`);
  }
}

/** Celery's environment override `CELERY_RESULT_BACKEND`, else `fallback`. */
export function backendUrlFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  fallback?: string,
): BackendUrl {
  return parseBackendUrl(env.CELERY_RESULT_BACKEND ?? fallback);
}
