import type { JsonDialect } from './dialect';
import type { QueueDefinition, TaskRoutes } from './routes';

export type { JsonDialect } from './dialect';
export type {
  QueueArgument,
  QueueDefinition,
  RouteSpec,
  RouterFunction,
  TaskRoutes,
} from './routes';

/** One `beat_schedule` entry, with Celery's keys. */
export interface BeatScheduleEntrySetting {
  task: string;
  /** Seconds, or a schedule made with celery-wire's `every(…)` / `crontab(…)` / `solar(…)`. */
  schedule: number | { readonly kind: 'interval' | 'crontab' | 'solar' };
  args?: readonly unknown[];
  kwargs?: Readonly<Record<string, unknown>>;
  /** `apply_async` options in Celery's snake_case (`queue`, `routing_key`, `priority`, …). */
  options?: Readonly<Record<string, unknown>>;
  relative?: boolean;
}

/** `-P`: `prefork` (Node worker threads) or in-process (`solo`, `threads`). */
export type WorkerPoolName = 'prefork' | 'solo' | 'threads';

/** Celery header profile (see `src/protocol/profiles.ts`). */
export type CeleryLine = '5.7' | '5.6' | '5.5' | '5.4' | '5.3' | '5.2' | '5.1' | '5.0' | '4.4';

/** Every supported Celery line, newest first. */
export const CELERY_LINES: readonly CeleryLine[] = [
  '5.7',
  '5.6',
  '5.5',
  '5.4',
  '5.3',
  '5.2',
  '5.1',
  '5.0',
  '4.4',
];

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
  /**
   * `task_queues`: queue definitions with their exchange and arguments (`null`: only the default
   * queue, as Celery). A queue RabbitMQ already has must be declared with the same arguments.
   */
  taskQueues: readonly QueueDefinition[] | null;
  /**
   * `task_default_queue_type` (Celery ≥ 5.5): `quorum` declares the default queue with
   * `x-queue-type: quorum` (`celery/app/amqp.py`, `AMQP.Queues`).
   */
  taskDefaultQueueType: 'classic' | 'quorum';
  /**
   * `worker_detect_quorum_queues` (Celery ≥ 5.5, default true): a quorum queue among the app's
   * queues switches the worker to per-consumer QoS (`celery/worker/consumer/tasks.py`).
   */
  workerDetectQuorumQueues: boolean;
  /**
   * `task_create_missing_queue_type` (Celery ≥ 5.6, default `classic`): type of the queues
   * created for names not in `taskQueues` (`Queues.new_missing`).
   */
  taskCreateMissingQueueType: 'classic' | 'quorum';
  /** `broker_native_delayed_delivery_queue_type` (default `quorum`): type of the 28 delay queues. */
  brokerNativeDelayedDeliveryQueueType: 'classic' | 'quorum';
  taskIgnoreResult: boolean;
  taskAcksLate: boolean;
  taskRejectOnWorkerLost: boolean;
  /**
   * `task_acks_on_failure_or_timeout` (default True): with `acks_late`, a failed or timed-out task
   * is acked; False rejects a failure without requeue and requeues a hard time limit.
   */
  taskAcksOnFailureOrTimeout: boolean;
  /** `task_acks_on_failure` (Celery 5.7; null: `taskAcksOnFailureOrTimeout`). */
  taskAcksOnFailure: boolean | null;
  /** `task_acks_on_timeout` (Celery 5.7; null: `taskAcksOnFailureOrTimeout`). */
  taskAcksOnTimeout: boolean | null;
  /**
   * `task_retry_on_worker_lost` (Celery 5.7, default False): a task whose pool thread died is
   * retried after `defaultRetryDelay` while it has retries left, instead of failing.
   */
  taskRetryOnWorkerLost: boolean;
  taskTrackStarted: boolean;
  /**
   * `task_inherit_parent_priority`: a task sent from a running task's body gets that task's
   * delivery priority unless given one.
   */
  taskInheritParentPriority: boolean;
  /** `task_send_sent_event`: producers publish a `task-sent` event for each task they send. */
  taskSendSentEvent: boolean;
  taskTimeLimit: number | null;
  taskSoftTimeLimit: number | null;
  taskStoreErrorsEvenIfIgnored: boolean;
  resultExpires: number | null;
  resultExtended: boolean;
  workerPrefetchMultiplier: number;
  /** Header profile of the Celery line the cluster runs; the newest by default. */
  celeryLine: CeleryLine;
  /** JSON dialect; defaults from `celeryLine` (`kombu-legacy` for 4.4–5.2: kombu < 5.3). */
  jsonDialect: JsonDialect;
  /** Redis transport `visibility_timeout` (seconds). */
  visibilityTimeout: number;
  /** `broker_connection_retry`: re-establish a lost broker connection (default true). */
  brokerConnectionRetry: boolean;
  /** `broker_connection_retry_on_startup`: retry the first connection too (default true). */
  brokerConnectionRetryOnStartup: boolean;
  /** `broker_connection_max_retries` (default 100; `null` = forever). */
  brokerConnectionMaxRetries: number | null;
  /**
   * `broker_failover_strategy`: how the next node of a failover `brokerUrl`
   * (`amqp://h1//;amqp://h2//`) is picked after a failure: `round-robin` (default, kombu's
   * `itertools.cycle`) or `shuffle` (`shufflecycle`); `null` = round-robin, as Celery's `None`.
   */
  brokerFailoverStrategy?: 'round-robin' | 'shuffle' | null;
  /** `broker_heartbeat` in seconds for AMQP (0 = off; the URL's `heartbeat=` wins). */
  brokerHeartbeat: number;
  /** `control_exchange` / `event_exchange`. */
  controlExchange: string;
  /** `beat_schedule`: periodic entries for `celery-wire beat` (see {@link BeatScheduleEntrySetting}). */
  beatSchedule?: Readonly<Record<string, BeatScheduleEntrySetting>>;
  /** `beat_scheduler`: `redbeat.RedBeatScheduler` (or `redbeat`) for the RedBeat store; else a file. */
  beatScheduler?: string;
  /** `beat_max_loop_interval` in seconds (Celery's default 300). */
  beatMaxLoopInterval?: number;
  /** `beat_schedule_filename`: where the default scheduler keeps last runs (JSON, not shelve). */
  beatScheduleFilename?: string;
  /** `beat_enable_remote_control` (Celery 5.7, default false): beat answers `inspect ping`. */
  beatEnableRemoteControl?: boolean;
  /** `beat_remote_control_max_tick_age` (s): silent when the scheduler has not ticked for that long. */
  beatRemoteControlMaxTickAge?: number | null;
  /** RedBeat's `redbeat_redis_url` (default: `brokerUrl`), `redbeat_key_prefix`, `redbeat_lock_key`, `redbeat_lock_timeout`. */
  redbeatRedisUrl?: string;
  redbeatKeyPrefix?: string;
  redbeatLockKey?: string | null;
  redbeatLockTimeout?: number;
  /** `timezone`: the zone crontab entries are read in (Celery's default: UTC). */
  timezone?: string;
  eventExchange: string;
  /** `task_always_eager`: calls run registered tasks in process (`Task.apply`), nothing is sent. */
  taskAlwaysEager: boolean;
  /** `task_eager_propagates`: an eager task's exception is thrown by the call itself. */
  taskEagerPropagates: boolean;
  /** `task_store_eager_result`: eager runs also write their states to the result backend. */
  taskStoreEagerResult: boolean;
  /** `database_url`: used when `resultBackend` is the bare alias `database`. */
  databaseUrl?: string;
  /** `database_table_names` (`{task, group}`), `database_table_schemas` likewise. */
  databaseTableNames?: Readonly<{ task?: string; group?: string }>;
  databaseTableSchemas?: Readonly<{ task?: string; group?: string }>;
  /** `database_short_lived_sessions` (default false). */
  databaseShortLivedSessions?: boolean;
  /** `database_create_tables_at_setup` (Celery 5.7; default: create on first use). */
  databaseCreateTablesAtSetup?: boolean;
  /** `result_chord_retry_interval`: `celery.chord_unlock`'s retry countdown (default 1.0 s). */
  resultChordRetryInterval?: number;
  /**
   * `worker_pool` (`-P`): `prefork` runs task bodies on Node worker threads (docs/pool.md);
   * `solo` / `threads` run them in the worker's own thread, async handlers interleaving up to
   * `-c` (the default here, unlike Celery's `prefork`, so existing apps keep their behaviour).
   */
  workerPool?: WorkerPoolName;
  /** `worker_max_tasks_per_child`: a pool thread is replaced after this many tasks. */
  workerMaxTasksPerChild?: number | null;
  /** `worker_max_memory_per_child` in KiB: a pool thread whose V8 heap exceeds it is replaced. */
  workerMaxMemoryPerChild?: number | null;
  /** `worker_pool_restarts`: allow the `pool_restart` control command (default false). */
  workerPoolRestarts?: boolean;
  /**
   * The `--autoscale max,min` range. (Celery's `worker_autoscaler` names the autoscaler class;
   * celery-wire has one, built in, so the setting carries its range.)
   */
  workerAutoscaler?: Readonly<{ max: number; min: number }> | null;
  /**
   * `broker_transport_options`, kombu's own snake_case keys (`{ master_name: 'mymaster',
   * global_keyprefix: 'pfx:', visibility_timeout: 7200 }`; SQS: `region`, `queue_name_prefix`,
   * `wait_time_seconds`, `predefined_queues`, …); checked when the broker is built.
   */
  brokerTransportOptions: Readonly<Record<string, unknown>>;
  /** `result_backend_transport_options` (`global_keyprefix`, `master_name`, `sentinel_kwargs` …). */
  resultBackendTransportOptions: Readonly<Record<string, unknown>>;
  /** `broker_use_ssl`: `{ ssl_cert_reqs, ssl_ca_certs, ssl_certfile, ssl_keyfile }` (Redis keys). */
  brokerUseSsl: boolean | Readonly<Record<string, unknown>> | null;
  /** `redis_backend_use_ssl`: the same `ssl_*` keys for the Redis result backend. */
  redisBackendUseSsl: Readonly<Record<string, unknown>> | null;
  /**
   * The Redis result backend's connection (`celery/backends/redis.py`, `RedisBackend.__init__`):
   * `redis_socket_timeout` (seconds, Celery's default 120.0; 0/null = none),
   * `redis_socket_connect_timeout`, `redis_socket_keepalive`, `redis_retry_on_timeout`,
   * `redis_max_connections`, `redis_backend_health_check_interval` (seconds, off by default).
   * Checked when the backend is built (`E_CONFIG` naming the setting).
   */
  redisSocketTimeout?: number | null;
  redisSocketConnectTimeout?: number | null;
  redisSocketKeepalive?: boolean | null;
  redisRetryOnTimeout?: boolean | null;
  redisMaxConnections?: number | null;
  redisBackendHealthCheckInterval?: number | null;
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
  /** `security_key`: PEM private key path (`app.setupSecurity()`, `taskSerializer: 'auth'`). */
  securityKey?: string;
  /** `security_key_password` (Celery ≥5.3). */
  securityKeyPassword?: string | null;
  /** `security_certificate`: PEM certificate path; its id signs outgoing messages. */
  securityCertificate?: string;
  /** `security_cert_store`: a directory or glob of PEM certificates trusted for incoming ones. */
  securityCertStore?: string;
  /** `security_digest` (default `sha256`). */
  securityDigest?: string;
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
  taskQueues: null,
  taskDefaultQueueType: 'classic',
  workerDetectQuorumQueues: true,
  taskCreateMissingQueueType: 'classic',
  brokerNativeDelayedDeliveryQueueType: 'quorum',
  taskIgnoreResult: false,
  taskAcksLate: false,
  taskRejectOnWorkerLost: false,
  taskAcksOnFailureOrTimeout: true,
  taskAcksOnFailure: null,
  taskAcksOnTimeout: null,
  taskRetryOnWorkerLost: false,
  taskTrackStarted: false,
  taskInheritParentPriority: false,
  taskSendSentEvent: false,
  taskTimeLimit: null,
  taskSoftTimeLimit: null,
  taskStoreErrorsEvenIfIgnored: false,
  resultExpires: 86400,
  resultExtended: false,
  workerPrefetchMultiplier: 4,
  celeryLine: '5.7',
  jsonDialect: 'kombu-5.3',
  visibilityTimeout: 3600,
  brokerConnectionRetry: true,
  brokerConnectionRetryOnStartup: true,
  brokerConnectionMaxRetries: 100,
  brokerHeartbeat: 0,
  controlExchange: 'celery',
  eventExchange: 'celeryev',
  taskAlwaysEager: false,
  taskEagerPropagates: false,
  taskStoreEagerResult: false,
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

/** Lines pinned to kombu < 5.3, whose json has no `__type__` tags (`kombu/utils/json.py`). */
const LEGACY_JSON_LINES: ReadonlySet<CeleryLine> = new Set<CeleryLine>([
  '5.2',
  '5.1',
  '5.0',
  '4.4',
]);

/**
 * Settings as a user writes them: `brokerUrl` may also be a list of failover URLs, as Celery's
 * `broker_url = ['amqp://h1//', 'amqp://h2//']` (`kombu/connection.py`, `Connection.__init__`
 * extends `alt` with a non-string hostname); it is kept as the `;`-joined form.
 */
export type CeleryConfigInput = Omit<Partial<CeleryConfig>, 'brokerUrl'> & {
  brokerUrl?: string | readonly string[];
};

/** Merge user options over the environment over Celery's defaults. */
export function resolveConfig(
  options: CeleryConfigInput = {},
  env: Readonly<Record<string, string | undefined>> = {},
): CeleryConfig {
  const { brokerUrl, ...rest } = options;
  const merged: CeleryConfig = {
    ...DEFAULT_CONFIG,
    ...configFromEnv(env),
    ...rest,
    ...(brokerUrl === undefined
      ? {}
      : { brokerUrl: typeof brokerUrl === 'string' ? brokerUrl : brokerUrl.join(';') }),
  };
  if (options.jsonDialect === undefined && LEGACY_JSON_LINES.has(merged.celeryLine)) {
    merged.jsonDialect = 'kombu-legacy';
  }
  return merged;
}
