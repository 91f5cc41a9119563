import { randomUUID } from 'node:crypto';
import { AmqpBroker } from '../brokers/amqp/amqp-broker';
import type { Broker } from '../brokers/broker';
import { RedisBroker } from '../brokers/redis/redis-broker';
import { MemoryBroker, sharedBrokerState } from '../brokers/memory/memory-broker';
import { isMemoryBackendUrl, isMemoryBrokerUrl } from '../brokers/memory/url';
import { MemoryBackend, sharedResultStore } from '../backends/memory/memory-backend';
import type * as SqsModule from '../brokers/sqs/sqs-broker';
import { parseBrokerUrl } from '../brokers/url';
import type { BackendCommonOptions, ResultBackend } from '../backends/backend';
import type * as DatabaseModule from '../backends/database/database-backend';
import { DisabledBackend } from '../backends/disabled-backend';
import { RedisBackend } from '../backends/redis/redis-backend';
import { RpcBackend } from '../backends/rpc/rpc-backend';
import { parseBackendUrl } from '../backends/url';
import { getProfile, type CeleryProfileName } from '../protocol/profiles';
import type { CeleryConfig, CeleryLine } from '../config/config';

/*
 * The SQS broker and the database backend need optional peer dependencies (@aws-sdk/client-sqs;
 * pg, mysql2): they are loaded only when a URL selects them, so `import 'celery-wire'` works
 * without them (checked by test/integration/package.test.ts on the packed tarball).
 */
const sqsModule = (): typeof SqsModule =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional peer, loaded on use
  require('../brokers/sqs/sqs-broker') as typeof SqsModule;
const databaseModule = (): typeof DatabaseModule =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional peers, loaded on use
  require('../backends/database/database-backend') as typeof DatabaseModule;

/** The protocol profile of a Celery line (`'5.2'` → `celery-5.2`). */
export function profileOf(line: CeleryLine): CeleryProfileName {
  return `celery-${line}`;
}

/**
 * Pick the transport from `broker_url` as kombu does (`kombu/connection.py`,
 * `Connection._init_params`; aliases in `kombu/transport/__init__.py`, `TRANSPORT_ALIASES`):
 * `redis`/`rediss`/`redis+socket` → the Redis virtual transport, `amqp`/`pyamqp`/`amqps` → AMQP.
 * AMQP takes the whole `;`-separated failover list; the other transports its first URL.
 * `role: 'worker'` gives the worker's reconnect order on a failover list (from the first URL).
 */
export function createBroker(config: CeleryConfig, role: 'client' | 'worker' = 'client'): Broker {
  // `memory://`: kombu's in-process transport; every broker of the URL shares its queues.
  if (isMemoryBrokerUrl(config.brokerUrl)) {
    const u = config.brokerUrl.split(';')[0]?.trim() ?? 'memory://';
    return new MemoryBroker({ url: u, state: sharedBrokerState(u) });
  }
  const url = parseBrokerUrl(config.brokerUrl);
  const profile = getProfile(profileOf(config.celeryLine));
  if (url.transport === 'redis') {
    // kombu < 5.2 has no `global_keyprefix` and ignores it: so does a worker of such a line,
    // or the two sides of one estate would not see each other's keys.
    const { global_keyprefix: _unread, ...unprefixed } = config.brokerTransportOptions;
    const transportOptions = profile.redisBrokerKeyprefix
      ? config.brokerTransportOptions
      : unprefixed;
    return new RedisBroker({
      url,
      jsonDialect: config.jsonDialect,
      // `broker_transport_options['visibility_timeout']` wins when given (kombu reads only it).
      ...(transportOptions.visibility_timeout === undefined
        ? { visibilityTimeout: config.visibilityTimeout }
        : {}),
      // kombu ≥5.7 also keeps `_kombu.binding_permanent.*`; older lines never wrote it.
      permanentBindings: profile.redisPermanentBindings,
      transportOptions,
      ssl: config.brokerUseSsl,
      legacySentinel: profile.redisLegacySentinel,
    });
  }
  if (url.transport === 'sqs') {
    return new (sqsModule().SqsBroker)({
      url,
      transportOptions: config.brokerTransportOptions,
      line: profileOf(config.celeryLine),
      jsonDialect: config.jsonDialect,
      env: process.env,
    });
  }
  return new AmqpBroker({
    // The whole failover list (`amqp://h1//;amqp://h2//`), with `broker_failover_strategy`.
    url: config.brokerUrl,
    failoverStrategy: config.brokerFailoverStrategy ?? null,
    // Celery's worker reconnects from the first URL of the list; a client continues its cycle.
    restartFromFirstOnLoss: role === 'worker',
    connectionRetry: config.brokerConnectionRetry,
    connectionMaxRetries: config.brokerConnectionMaxRetries,
    // `?heartbeat=` in the URL wins over broker_heartbeat, as kombu reads it.
    heartbeat:
      url.query.heartbeat === undefined ? config.brokerHeartbeat : Number(url.query.heartbeat),
  });
}

/**
 * Celery's `app.backend` from `result_backend` (`celery/app/backends.py`, `by_url`): `redis://…`,
 * `rpc://` (results over the app's broker connection, replies to queue `oid`) or `disabled`.
 * `oid` is the client's reply queue (Celery's `app.thread_oid`); a fresh uuid when omitted.
 * Throws a `CeleryError` (`E_CONFIG`) for unknown schemes.
 */
export function createBackend(
  config: CeleryConfig,
  broker: Broker,
  oid: string = randomUUID(),
): ResultBackend {
  const common: BackendCommonOptions = {
    serializer: config.resultSerializer,
    accept: config.resultAcceptContent ?? config.acceptContent,
    expiresSeconds: config.resultExpires,
    extended: config.resultExtended,
    profile: profileOf(config.celeryLine),
    maxResultSize: config.resultMaxSize,
    maxDecompressedSize: config.messageMaxDecompressedSize,
  };
  // `cache+memory://` (and bare `memory://`): one in-process store per URL.
  if (isMemoryBackendUrl(config.resultBackend)) {
    const store = sharedResultStore(config.resultBackend.trim());
    return new MemoryBackend({ ...common, store });
  }
  const url = parseBackendUrl(config.resultBackend);
  switch (url.kind) {
    case 'redis':
      return new RedisBackend({
        ...common,
        url: url.redis,
        transportOptions: config.resultBackendTransportOptions,
        ssl: config.redisBackendUseSsl,
        connection: {
          socketTimeout: config.redisSocketTimeout,
          socketConnectTimeout: config.redisSocketConnectTimeout,
          socketKeepalive: config.redisSocketKeepalive,
          retryOnTimeout: config.redisRetryOnTimeout,
          maxConnections: config.redisMaxConnections,
          healthCheckInterval: config.redisBackendHealthCheckInterval,
        },
      });
    case 'rpc':
      return new RpcBackend({ ...common, broker, oid });
    case 'disabled':
      return new DisabledBackend();
    case 'database':
      if (/^django-db\b/i.test(url.url))
        return new (databaseModule().DjangoDbBackend)({ ...common, url: url.url });
      return new (databaseModule().DatabaseBackend)({
        ...common,
        url: url.url.includes('://') ? url.url : (config.databaseUrl ?? ''),
        ...(config.databaseTableNames ? { tableNames: config.databaseTableNames } : {}),
        ...(config.databaseTableSchemas ? { tableSchemas: config.databaseTableSchemas } : {}),
        shortLivedSessions: config.databaseShortLivedSessions === true,
        createTablesAtSetup: config.databaseCreateTablesAtSetup === true,
      });
  }
}
