import {
  EXECUTION_OPTIONS_44,
  EXECUTION_OPTIONS_51,
  EXECUTION_OPTIONS_52,
} from './execution-option-keys';
import { SQS_52, SQS_57, type SqsProfile } from './sqs-profile';
import type { BackendKeyprefixStyle } from './backend-keys';

/**
 * Wire differences between Celery release lines. A profile names the line whose exact output we
 * reproduce; `celery-5.7` is the default. Sources: `celery/app/amqp.py`, `AMQP.as_task_v2` at
 * v4.4.7, v5.2.7 and v5.7.0; `celery/app/base.py`, `Celery.send_task`; `celery/backends/base.py`,
 * `Backend._get_result_meta`; `celery/canvas.py`, `Signature` (`chord_size` in 4.x/5.0).
 */
export type { SqsProfile } from './sqs-profile';

export type CeleryProfileName =
  | 'celery-5.7'
  | 'celery-5.6'
  | 'celery-5.5'
  | 'celery-5.4'
  | 'celery-5.3'
  | 'celery-5.2'
  | 'celery-5.1'
  | 'celery-5.0'
  | 'celery-4.4';

/** What a profile changes on the wire. */
export interface CeleryProfile {
  name: CeleryProfileName;
  /** v2 header keys in `as_task_v2` insertion order. */
  headerKeys: readonly string[];
  /** `send_task` sets the AMQP `expiration` property from `expires` (Celery ≥5.2.0). */
  expirationProperty: boolean;
  /** Signature dicts carry `chord_size` (Celery 4.x–5.0.x). */
  signatureChordSize: boolean;
  /** Result `date_done` is aware (`+00:00`, Celery ≥5.5) instead of naive UTC. */
  awareDateDone: boolean;
  /**
   * `ignore_result` header when the caller gives none: `send_task` pops it with default `None` in
   * 5.7.0 (the worker then uses the task's own setting) and `False` before.
   */
  ignoreResultDefault: boolean | null;
  /**
   * RPC result messages carry the full result document (`_get_result_meta` + task_id, Celery
   * 5.7.0) instead of the 5-key `{task_id, status, result, traceback, children}` body.
   */
  rpcFullMeta: boolean;
  /** Events carry `utcoffset` as a float in hours (`celery/utils/time.py`, `utcoffset`, true division in 5.7.0); an int before. */
  floatUtcoffset: boolean;
  /** kombu JSON dialect: `__type__` envelopes since kombu 5.3 (`kombu/utils/json.py`), plain before. */
  jsonDialect: 'kombu-5.3' | 'kombu-legacy';
  /** The RPC reply queue is declared `durable=True` (Celery 5.7.0, `ResultConsumer`), `False` before. */
  rpcDurableReplyQueue: boolean;
  /** Canvases freeze and apply the pre-5.3 way (`celery/canvas.py` at v5.2.7; see `src/canvas`). */
  legacyCanvas: boolean;
  /** Redis chord join: the Lua script with `.d`/`.c` (5.7.0) instead of the MULTI pipeline. */
  redisChordLua: boolean;
  /** kombu ≥5.7 keeps `_kombu.binding_permanent.*` sets (`kombu/transport/redis.py`). */
  redisPermanentBindings: boolean;
  /**
   * kombu reads the broker's `global_keyprefix` transport option (kombu ≥ 5.2.0,
   * `GlobalKeyPrefixMixin`); older kombu ignores it, as every option it does not list.
   */
  redisBrokerKeyprefix: boolean;
  /** On Sentinel, fanout messages go to the literal `/{db}.` topic (kombu < 5.4, see `RedisKeyspace`). */
  redisLegacySentinel: boolean;
  /**
   * `revoke` marks non-running ids REVOKED in the result backend (`celery/worker/control.py`,
   * `_revoke`, `backend.mark_as_revoked`, Celery 5.7.0); older lines only flag them.
   */
  revokeMarksBackend: boolean;
  /**
   * The `revoke` reply names the ids by the set's repr, `tasks {'a'} flagged as revoked` (5.7.0,
   * `_revoke` returns the set), instead of `tasks a flagged as revoked` (`', '.join`, 5.2.7).
   */
  revokeReplySetRepr: boolean;
  /**
   * `auth` serializer packing: signer and signature are base64 fields split with `maxsplit=4`
   * (`celery/security/serialization.py`, `_pack`/`_unpack`, Celery ≥5.5.0); before, both are raw
   * and the signature is cut by the key size. Neither side reads the other's.
   */
  authB64Fields: boolean;
  /** `Certificate.verify` refuses an expired certificate at every verify (Celery 5.7.0). */
  authExpiryOnVerify: boolean;
  /** SQS transport behaviour of the line's kombu. */
  sqs: SqsProfile;
  /**
   * How the Redis result backend joins `result_backend_transport_options['global_keyprefix']`
   * (`BaseKeyValueStoreBackend._add_global_keyprefix`, see `backend-keys.ts`): 5.5+
   * separator-aware, 5.3/5.4 always `_`, none before 5.3.
   */
  redisBackendKeyprefix: BackendKeyprefixStyle;
  /**
   * Quorum queues and native delayed delivery (Celery ≥ 5.5: `task_default_queue_type`,
   * `worker_detect_quorum_queues`, the `DelayedDelivery` bootstep, `send_task` publishing
   * countdown/eta to `celery_delayed_27`). Absent: the line has none of it.
   */
  nativeDelayedDelivery?: boolean;
  /**
   * `calculate_routing_key` strips a delay prefix carried forward by a retry (kombu 5.7); before,
   * the prefix grows on every delayed retry.
   */
  stripDelayPrefix?: boolean;
  /**
   * kombu 5.7 `qos_semantics_matches_spec`: per-consumer QoS on RabbitMQ ≥ 4.0 too (global QoS
   * removed there); kombu 5.5/5.6 apply global QoS on every RabbitMQ ≥ 3.3.
   */
  perConsumerQosOnRabbit4?: boolean;
  /**
   * Control (pidbox) and event queues are declared `exclusive` (Celery 5.7.0 defaults
   * `control_queue_exclusive` / `event_queue_exclusive` = True, kombu 5.7 `Mailbox`), which
   * RabbitMQ 4.3 needs for transient queues; non-exclusive before.
   */
  exclusiveControlQueues?: boolean;
  /** `inspect conf` defaults table generated from this line (`control-conf.ts`); absent: 5.2's. */
  confDefaultsTable?: '5.7';
  /** 5.5.3 logs "Prefetch count in now static" (sic; fixed in 5.6). */
  qosStaticLogTypo?: boolean;
  /**
   * `celery.chord_unlock` retries carry the queue's exchange type as the kwarg
   * `_chord_unlock_exchange_type` (5.7.0, `celery/app/builtins.py`); before, it is dropped.
   */
  chordUnlockExchangeTypeKwarg?: boolean;
  /**
   * Database backend (`celery/backends/database/models.py`, 5.7.0): `children` and `stamps`
   * columns, and a stored SUCCESS is never overwritten (`_update_result` checks the state).
   */
  databaseTaskMeta57?: boolean;
  /**
   * `as_task_v2` takes the caller's `origin` option for the `origin` header (Celery ≥ 5.3); before,
   * the header is always the sender's `anon_nodename()` and the option reaches only the message
   * properties (`send_task_message`'s `**properties`), as on every line.
   */
  originOption?: boolean;
  /**
   * The keys of `Context.as_execution_options` (`celery/app/task.py`), in order: what a retry
   * passes on. `shadow` from 5.1, `replaced_task_nesting` from 5.2 (a message property on 5.2,
   * whose `as_task_v2` does not name it).
   */
  executionOptionKeys: readonly string[];
  /**
   * A retry keeps the request's `ignore_result` (`signature_from_request`,
   * `get_actual_ignore_result`, Celery 5.7.0); before, `send_task`'s default (`False`) is sent.
   */
  retryKeepsIgnoreResult?: boolean;
  /**
   * A retry re-sends the request's custom headers (`Context.headers`, filled from the message's
   * non-Celery headers from 5.2.0); on 4.4–5.1 `headers` is None there and they are dropped.
   */
  retryKeepsHeaders?: boolean;
  /**
   * The remote-control mailbox serializes with `task_serializer` and accepts `accept_content`
   * (`celery/app/control.py`, `Control.__init__`, Celery ≥ 5.1); on 4.4/5.0 it is json only
   * (`accept=['json']`, kombu's default serializer), so those workers drop a msgpack/yaml command.
   */
  mailboxFollowsTaskSerializer?: boolean;
}

const BASE_KEYS = [
  'lang',
  'task',
  'id',
  'shadow',
  'eta',
  'expires',
  'group',
  'group_index',
  'retries',
  'timelimit',
  'root_id',
  'parent_id',
  'argsrepr',
  'kwargsrepr',
  'origin',
] as const;

/** Every supported profile, by name. */
export const PROFILES: Readonly<Record<CeleryProfileName, CeleryProfile>> = {
  'celery-5.7': {
    name: 'celery-5.7',
    headerKeys: [
      ...BASE_KEYS,
      'ignore_result',
      'replaced_task_nesting',
      'stamped_headers',
      'stamps',
    ],
    expirationProperty: true,
    signatureChordSize: false,
    awareDateDone: true,
    ignoreResultDefault: null,
    rpcFullMeta: true,
    floatUtcoffset: true,
    jsonDialect: 'kombu-5.3',
    rpcDurableReplyQueue: true,
    legacyCanvas: false,
    redisChordLua: true,
    redisPermanentBindings: true,
    redisBrokerKeyprefix: true,
    redisLegacySentinel: false,
    revokeMarksBackend: true,
    revokeReplySetRepr: true,
    authB64Fields: true,
    authExpiryOnVerify: true,
    sqs: SQS_57,
    redisBackendKeyprefix: 'separator-aware',
    nativeDelayedDelivery: true,
    stripDelayPrefix: true,
    perConsumerQosOnRabbit4: true,
    exclusiveControlQueues: true,
    confDefaultsTable: '5.7',
    chordUnlockExchangeTypeKwarg: true,
    databaseTaskMeta57: true,
    originOption: true,
    retryKeepsIgnoreResult: true,
    retryKeepsHeaders: true,
    executionOptionKeys: EXECUTION_OPTIONS_52,
    mailboxFollowsTaskSerializer: true,
  },
  // 5.3–5.6: values from protocol-fixtures/celery-5.{3,4,5,6} (generated from 5.3.6, 5.4.0, 5.5.3,
  // 5.6.3): the 5.3 stamping headers; aware `date_done` from 5.4.0; `ignore_result: False`,
  // the 5-key RPC body and int `utcoffset` until 5.7.0.
  'celery-5.6': {
    name: 'celery-5.6',
    headerKeys: [
      ...BASE_KEYS,
      'ignore_result',
      'replaced_task_nesting',
      'stamped_headers',
      'stamps',
    ],
    expirationProperty: true,
    signatureChordSize: false,
    awareDateDone: true,
    ignoreResultDefault: false,
    rpcFullMeta: false,
    floatUtcoffset: false,
    // Read from each line's source (celery/backends/rpc.py, redis.py, worker/control.py; kombu).
    jsonDialect: 'kombu-5.3',
    rpcDurableReplyQueue: false,
    legacyCanvas: false,
    redisChordLua: false,
    redisPermanentBindings: false,
    redisBrokerKeyprefix: true,
    redisLegacySentinel: false,
    revokeMarksBackend: true,
    revokeReplySetRepr: true,
    authB64Fields: true,
    authExpiryOnVerify: false,
    sqs: SQS_52,
    redisBackendKeyprefix: 'separator-aware',
    nativeDelayedDelivery: true,
    originOption: true,
    retryKeepsHeaders: true,
    executionOptionKeys: EXECUTION_OPTIONS_52,
    mailboxFollowsTaskSerializer: true,
  },
  'celery-5.5': {
    name: 'celery-5.5',
    headerKeys: [
      ...BASE_KEYS,
      'ignore_result',
      'replaced_task_nesting',
      'stamped_headers',
      'stamps',
    ],
    expirationProperty: true,
    signatureChordSize: false,
    awareDateDone: true,
    ignoreResultDefault: false,
    rpcFullMeta: false,
    floatUtcoffset: false,
    // Read from each line's source (celery/backends/rpc.py, redis.py, worker/control.py; kombu).
    jsonDialect: 'kombu-5.3',
    rpcDurableReplyQueue: false,
    legacyCanvas: false,
    redisChordLua: false,
    redisPermanentBindings: false,
    redisBrokerKeyprefix: true,
    redisLegacySentinel: false,
    revokeMarksBackend: false,
    revokeReplySetRepr: true,
    authB64Fields: true,
    authExpiryOnVerify: false,
    sqs: SQS_52,
    redisBackendKeyprefix: 'separator-aware',
    nativeDelayedDelivery: true,
    qosStaticLogTypo: true,
    originOption: true,
    retryKeepsHeaders: true,
    executionOptionKeys: EXECUTION_OPTIONS_52,
    mailboxFollowsTaskSerializer: true,
  },
  'celery-5.4': {
    name: 'celery-5.4',
    headerKeys: [
      ...BASE_KEYS,
      'ignore_result',
      'replaced_task_nesting',
      'stamped_headers',
      'stamps',
    ],
    expirationProperty: true,
    signatureChordSize: false,
    awareDateDone: true,
    ignoreResultDefault: false,
    rpcFullMeta: false,
    floatUtcoffset: false,
    // Read from each line's source (celery/backends/rpc.py, redis.py, worker/control.py; kombu).
    jsonDialect: 'kombu-5.3',
    rpcDurableReplyQueue: false,
    legacyCanvas: false,
    redisChordLua: false,
    redisPermanentBindings: false,
    redisBrokerKeyprefix: true,
    redisLegacySentinel: false,
    revokeMarksBackend: false,
    revokeReplySetRepr: true,
    authB64Fields: false,
    authExpiryOnVerify: false,
    sqs: SQS_52,
    redisBackendKeyprefix: 'underscore',
    originOption: true,
    retryKeepsHeaders: true,
    executionOptionKeys: EXECUTION_OPTIONS_52,
    mailboxFollowsTaskSerializer: true,
  },
  'celery-5.3': {
    name: 'celery-5.3',
    headerKeys: [
      ...BASE_KEYS,
      'ignore_result',
      'replaced_task_nesting',
      'stamped_headers',
      'stamps',
    ],
    expirationProperty: true,
    signatureChordSize: false,
    awareDateDone: false,
    ignoreResultDefault: false,
    rpcFullMeta: false,
    floatUtcoffset: false,
    // Read from each line's source (celery/backends/rpc.py, redis.py, worker/control.py; kombu).
    jsonDialect: 'kombu-5.3',
    rpcDurableReplyQueue: false,
    legacyCanvas: false,
    redisChordLua: false,
    redisPermanentBindings: false,
    redisBrokerKeyprefix: true,
    redisLegacySentinel: true,
    revokeMarksBackend: false,
    revokeReplySetRepr: true,
    authB64Fields: false,
    authExpiryOnVerify: false,
    sqs: SQS_52,
    redisBackendKeyprefix: 'underscore',
    originOption: true,
    retryKeepsHeaders: true,
    executionOptionKeys: EXECUTION_OPTIONS_52,
    mailboxFollowsTaskSerializer: true,
  },
  'celery-5.2': {
    name: 'celery-5.2',
    headerKeys: [...BASE_KEYS, 'ignore_result'],
    expirationProperty: true,
    signatureChordSize: false,
    awareDateDone: false,
    ignoreResultDefault: false,
    rpcFullMeta: false,
    floatUtcoffset: false,
    jsonDialect: 'kombu-legacy',
    rpcDurableReplyQueue: false,
    legacyCanvas: true,
    redisChordLua: false,
    redisPermanentBindings: false,
    redisBrokerKeyprefix: true,
    redisLegacySentinel: true,
    revokeMarksBackend: false,
    revokeReplySetRepr: false,
    authB64Fields: false,
    authExpiryOnVerify: false,
    sqs: SQS_52,
    redisBackendKeyprefix: 'none',
    retryKeepsHeaders: true,
    executionOptionKeys: EXECUTION_OPTIONS_52,
    mailboxFollowsTaskSerializer: true,
  },
  // 5.1.2: `ignore_result` header, no AMQP `expiration` (added in 5.2.0); 5.0.5: as 4.4.7.
  'celery-5.1': {
    name: 'celery-5.1',
    headerKeys: [...BASE_KEYS, 'ignore_result'],
    expirationProperty: false,
    signatureChordSize: false,
    awareDateDone: false,
    ignoreResultDefault: false,
    rpcFullMeta: false,
    floatUtcoffset: false,
    // Read from each line's source (celery/backends/rpc.py, redis.py, worker/control.py; kombu).
    jsonDialect: 'kombu-legacy',
    rpcDurableReplyQueue: false,
    legacyCanvas: true,
    redisChordLua: false,
    redisPermanentBindings: false,
    redisBrokerKeyprefix: false,
    redisLegacySentinel: true,
    revokeMarksBackend: false,
    revokeReplySetRepr: false,
    authB64Fields: false,
    authExpiryOnVerify: false,
    sqs: SQS_52,
    redisBackendKeyprefix: 'none',
    executionOptionKeys: EXECUTION_OPTIONS_51,
    mailboxFollowsTaskSerializer: true,
  },
  'celery-5.0': {
    name: 'celery-5.0',
    headerKeys: [...BASE_KEYS],
    expirationProperty: false,
    signatureChordSize: true,
    awareDateDone: false,
    ignoreResultDefault: false,
    rpcFullMeta: false,
    floatUtcoffset: false,
    // Read from each line's source (celery/backends/rpc.py, redis.py, worker/control.py; kombu).
    jsonDialect: 'kombu-legacy',
    rpcDurableReplyQueue: false,
    legacyCanvas: true,
    redisChordLua: false,
    redisPermanentBindings: false,
    redisBrokerKeyprefix: false,
    redisLegacySentinel: true,
    revokeMarksBackend: false,
    revokeReplySetRepr: false,
    authB64Fields: false,
    authExpiryOnVerify: false,
    sqs: SQS_52,
    redisBackendKeyprefix: 'none',
    executionOptionKeys: EXECUTION_OPTIONS_44,
  },
  'celery-4.4': {
    name: 'celery-4.4',
    headerKeys: [...BASE_KEYS],
    expirationProperty: false,
    signatureChordSize: true,
    awareDateDone: false,
    ignoreResultDefault: false,
    rpcFullMeta: false,
    floatUtcoffset: false,
    jsonDialect: 'kombu-legacy',
    rpcDurableReplyQueue: false,
    legacyCanvas: true,
    redisChordLua: false,
    redisPermanentBindings: false,
    redisBrokerKeyprefix: false,
    redisLegacySentinel: true,
    revokeMarksBackend: false,
    revokeReplySetRepr: false,
    authB64Fields: false,
    authExpiryOnVerify: false,
    sqs: SQS_52,
    redisBackendKeyprefix: 'none',
    executionOptionKeys: EXECUTION_OPTIONS_44,
  },
};

/** The default profile. */
export const DEFAULT_PROFILE: CeleryProfile = PROFILES['celery-5.7'];

/**
 * Every v2 header key any supported line sends: the newest line's keys, a superset of the older
 * lines' in the same order (the same array object as the newest profile's `headerKeys`).
 */
export const ALL_HEADER_KEYS: readonly string[] = DEFAULT_PROFILE.headerKeys;

/** Resolve a profile name (or pass a profile through); unknown names throw a RangeError. */
export function getProfile(p: CeleryProfileName | CeleryProfile | undefined): CeleryProfile {
  if (p === undefined) return DEFAULT_PROFILE;
  if (typeof p !== 'string') return p;
  const found = (PROFILES as Partial<Record<string, CeleryProfile>>)[p];
  if (!found) throw new RangeError(`unknown Celery profile ${p}`);
  return found;
}

/** The profile for a Celery version string such as `5.2.7` or `5.6.3` (its line's profile). */
export function profileForVersion(version: string): CeleryProfile {
  const [maj = 0, min = 0] = version.split('.').map((x) => Number.parseInt(x, 10));
  if (maj > 5 || (maj === 5 && min >= 7)) return PROFILES['celery-5.7'];
  if (maj === 5) {
    const found = (PROFILES as Partial<Record<string, CeleryProfile>>)[`celery-5.${min}`];
    if (found) return found;
  }
  return PROFILES['celery-4.4'];
}
