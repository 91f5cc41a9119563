import type { JsonDialect } from './dialect';
import type { TaskRoutes } from './routes';

export type { JsonDialect } from './dialect';
export type { RouteSpec, RouterFunction, TaskRoutes } from './routes';

/** Celery header profile (see `src/protocol/profiles.ts`). */
export type CeleryLine = '5.7' | '5.2' | '4.4';

/**
 * Application configuration. Names are Celery's settings in camelCase
 * (`broker_url` → `brokerUrl`), with Celery's defaults (`celery/app/defaults.py`).
 */
export interface CeleryConfig {
  brokerUrl: string;
  /** `redis://…`, `rpc://`, or `disabled`. */
  resultBackend: string;
  taskSerializer: string;
  resultSerializer: string;
  acceptContent: readonly string[];
  resultAcceptContent: readonly string[] | null;
  taskCompression: string | null;
  taskProtocol: 1 | 2;
  taskDefaultQueue: string;
  taskDefaultExchange: string | null;
  taskDefaultExchangeType: 'direct' | 'topic' | 'fanout';
  taskDefaultRoutingKey: string | null;
  taskDefaultPriority: number | null;
  taskQueueMaxPriority: number | null;
  taskDefaultDeliveryMode: 1 | 2;
  taskRoutes: TaskRoutes | null;
  taskIgnoreResult: boolean;
  taskAcksLate: boolean;
  taskRejectOnWorkerLost: boolean;
  taskTrackStarted: boolean;
  taskTimeLimit: number | null;
  taskSoftTimeLimit: number | null;
  taskStoreErrorsEvenIfIgnored: boolean;
  resultExpires: number | null;
  resultExtended: boolean;
  workerPrefetchMultiplier: number;
  /** Header profile of the Celery line the cluster runs; the newest by default. */
  celeryLine: CeleryLine;
  /** JSON dialect; defaults from `celeryLine` (`kombu-legacy` for 5.2/4.4). */
  jsonDialect: JsonDialect;
  /** Redis transport `visibility_timeout` (seconds). */
  visibilityTimeout: number;
  /** `control_exchange` / `event_exchange`. */
  controlExchange: string;
  eventExchange: string;
  /**
   * `broker_transport_options`, kombu's own snake_case keys (`{ master_name: 'mymaster',
   * global_keyprefix: 'pfx:', visibility_timeout: 7200 }`); checked when the broker is built.
   */
  brokerTransportOptions: Readonly<Record<string, unknown>>;
  /** `result_backend_transport_options` (`global_keyprefix`, `master_name`, `sentinel_kwargs` …). */
  resultBackendTransportOptions: Readonly<Record<string, unknown>>;
  /** `broker_use_ssl`: `{ ssl_cert_reqs, ssl_ca_certs, ssl_certfile, ssl_keyfile }` (Redis keys). */
  brokerUseSsl: boolean | Readonly<Record<string, unknown>> | null;
  /** `redis_backend_use_ssl`: the same `ssl_*` keys for the Redis result backend. */
  redisBackendUseSsl: Readonly<Record<string, unknown>> | null;
  /**
   * Size caps in bytes. Celery and kombu have none; these are celery-wire's own settings. A task
   * message whose body exceeds `messageMaxSize` (default 128 MiB, RabbitMQ 3.8–3.13's
   * `max_message_size`), or decompresses past `messageMaxDecompressedSize` (default 256 MiB),
   * is rejected without requeue (dead-lettered where a DLX is set); a result document over
   * `resultMaxSize` (default 512 MiB, Redis' `proto-max-bulk-len`) is refused when read.
   * All raise `MessageTooLargeError`.
   */
  messageMaxSize: number;
  messageMaxDecompressedSize: number;
  resultMaxSize: number;
}

/** Celery's defaults (`celery/app/defaults.py`), except where the environment says otherwise. */
export const DEFAULT_CONFIG: CeleryConfig = {
  brokerUrl: 'amqp://guest:guest@localhost:5672//',
  resultBackend: 'disabled',
  taskSerializer: 'json',
  resultSerializer: 'json',
  acceptContent: ['json'],
  resultAcceptContent: null,
  taskCompression: null,
  taskProtocol: 2,
  taskDefaultQueue: 'celery',
  taskDefaultExchange: null,
  taskDefaultExchangeType: 'direct',
  taskDefaultRoutingKey: null,
  taskDefaultPriority: null,
  taskQueueMaxPriority: null,
  taskDefaultDeliveryMode: 2,
  taskRoutes: null,
  taskIgnoreResult: false,
  taskAcksLate: false,
  taskRejectOnWorkerLost: false,
  taskTrackStarted: false,
  taskTimeLimit: null,
  taskSoftTimeLimit: null,
  taskStoreErrorsEvenIfIgnored: false,
  resultExpires: 86400,
  resultExtended: false,
  workerPrefetchMultiplier: 4,
  celeryLine: '5.7',
  jsonDialect: 'kombu-5.3',
  visibilityTimeout: 3600,
  controlExchange: 'celery',
  eventExchange: 'celeryev',
  brokerTransportOptions: {},
  resultBackendTransportOptions: {},
  brokerUseSsl: false,
  redisBackendUseSsl: null,
  messageMaxSize: 128 * 1024 * 1024,
  messageMaxDecompressedSize: 256 * 1024 * 1024,
  resultMaxSize: 512 * 1024 * 1024,
};

/** Environment variables Celery itself reads (`celery/app/base.py`, `Celery.__init__`). */
export function configFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): Partial<CeleryConfig> {
  const out: Partial<CeleryConfig> = {};
  const broker = env.CELERY_BROKER_URL;
  if (broker) out.brokerUrl = broker;
  const backend = env.CELERY_RESULT_BACKEND;
  if (backend) out.resultBackend = backend;
  return out;
}

/** Merge user options over the environment over Celery's defaults. */
export function resolveConfig(
  options: Partial<CeleryConfig> = {},
  env: Readonly<Record<string, string | undefined>> = {},
): CeleryConfig {
  const merged: CeleryConfig = { ...DEFAULT_CONFIG, ...configFromEnv(env), ...options };
  if (options.jsonDialect === undefined && merged.celeryLine !== '5.7') {
    merged.jsonDialect = 'kombu-legacy';
  }
  return merged;
}
