import { Redis } from 'ioredis';
import { BackendError, BackendGetMetaError, isCeleryError } from '../../errors/errors';
import type { RedisBrokerUrl } from '../../brokers/url';
import {
  backendKeyPrefixes,
  lineGlobalKeyPrefix,
  type BackendKeyPrefixes,
} from '../../protocol/backend-keys';
import { getProfile, type CeleryProfileName } from '../../protocol/profiles';
import { buildResultMeta } from '../../protocol/result-meta';
import type { Instant } from '../../protocol/time';
import { FAILURE, READY_STATES, SUCCESS } from '../../protocol/states';
import { isPyDict, type PyValue } from '../../serialization/py-values';
import type {
  BackendCapabilities,
  BackendCommonOptions,
  ResultBackend,
  StoreOptions,
  TaskMeta,
  WaitOptions,
} from '../backend';
import {
  decodeDocument,
  decodeMeta,
  encodeDocument,
  pendingMeta,
  type ResultLimits,
} from '../codec';
import { PendingResults } from '../pending';
import { parseBackendUrl } from '../url';
import {
  redisConnectionOptions,
  sentinelRoundError,
  type RedisSslOptions,
} from '../../brokers/redis/connection-options';
import {
  parseRedisTransportOptions,
  type RedisTransportOptions,
} from '../../brokers/redis/transport-options';
import { watchHealth } from '../../brokers/redis/health-check';
import { RedisChordJoin } from './chord-join';
import {
  backendConnectionTransport,
  type RedisBackendConnectionSettings,
} from './connection-settings';
import { RedisResultConsumer } from './redis-result-consumer';
import { RedisResultWriter } from './result-writer';
import { closeClient, dropClient } from '../../brokers/redis/close-client';

/** Options of {@link RedisBackend}. */
export interface RedisBackendOptions extends BackendCommonOptions {
  /** `redis://[:pass@]host:port/db`, `rediss://…`, `redis+socket:///path` or a parsed URL. */
  url: string | RedisBrokerUrl;
  /** `result_backend_transport_options['global_keyprefix']` (wins over `transportOptions`). */
  globalKeyPrefix?: string;
  /** `result_backend_transport_options` (kombu/Celery snake_case keys), validated. */
  transportOptions?: RedisTransportOptions | Readonly<Record<string, unknown>>;
  /** `redis_backend_use_ssl` (dict of `ssl_*` keys). */
  ssl?: RedisSslOptions | Readonly<Record<string, unknown>> | boolean | null;
  /** `result_failure_expires` in seconds (Celery 5.7.0; default: `expiresSeconds`). */
  failureExpiresSeconds?: number | null;
  /**
   * `redis_socket_timeout` (default 120 s), `redis_socket_connect_timeout`,
   * `redis_socket_keepalive`, `redis_retry_on_timeout`, `redis_max_connections`,
   * `redis_backend_health_check_interval` (see `connection-settings.ts`).
   */
  connection?: RedisBackendConnectionSettings;
  /** `redis_client_name`: CLIENT SETNAME of both connections. */
  clientName?: string;
  /** Connection errors after construction (the client keeps reconnecting). */
  onError?: (err: Error) => void;
  /** `result_chord_expires` in seconds (default: `expiresSeconds`). */
  chordExpiresSeconds?: number;
  /** `result_chord_join_timeout` in seconds (default 3.0). */
  chordJoinTimeout?: number;
  /**
   * How long a send-time subscription nobody waits for is kept (ms, default 30 s; 0 keeps it
   * until the result arrives). Waiting later loses nothing: the wait GETs the stored result.
   */
  subscriptionIdleMs?: number;
}

const DAY = 86_400;

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

function wrap(e: unknown, what: string): Error {
  if (isCeleryError(e)) return e;
  return new BackendError(`${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

/**
 * Celery's `RedisBackend` (`celery/backends/redis.py`) on ioredis, RESP2 pinned: documents under
 * `celery-task-meta-<id>` written with SETEX + PUBLISH in one MULTI, read by SUBSCRIBE-then-GET on
 * one shared subscriber connection.
 */
export class RedisBackend implements ResultBackend {
  readonly capabilities: BackendCapabilities = {
    supportsNativeJoin: true,
    persistent: true,
    supportsGroups: true,
    // `waitForResult`: SUBSCRIBE, then GET (`_maybe_get`-like), so no send-time subscription.
    readsStoredOnWait: true,
  };
  private readonly client: Redis;
  private readonly consumer: RedisResultConsumer;
  private readonly writer: RedisResultWriter;
  /** The last connection error of either connection, until it is ready again. */
  private connError: Error | undefined;
  private readonly pending = new PendingResults(() => this.connError);
  private readonly prefixes: BackendKeyPrefixes;
  private readonly serializer: string;
  private readonly accept: readonly string[];
  private readonly expires: number;
  private readonly failureExpires: number;
  private readonly profile: CeleryProfileName;
  private readonly now: () => Instant;
  private closing: Promise<void> | undefined;
  private readonly transport: RedisTransportOptions;
  private readonly globalKeyPrefix: string | undefined;
  /** Native chord join (`set_chord_size`, `on_chord_part_return`) for the configured line. */
  readonly chordJoin: RedisChordJoin;

  /** resultMaxSize / messageMaxDecompressedSize caps applied when reading documents. */
  private readonly limits: ResultLimits;

  constructor(private readonly opts: RedisBackendOptions) {
    let url: RedisBrokerUrl;
    if (typeof opts.url === 'string') {
      const parsed = parseBackendUrl(opts.url);
      if (parsed.kind !== 'redis') throw new BackendError(`not a Redis backend URL: ${opts.url}`);
      url = parsed.redis;
    } else {
      url = opts.url;
    }
    this.transport = parseRedisTransportOptions(
      opts.transportOptions,
      'result_backend_transport_options',
    );
    // Celery reads `result_backend_transport_options['global_keyprefix']` only since 5.3, and
    // joins it per line (`BaseKeyValueStoreBackend._add_global_keyprefix`, `backend-keys.ts`).
    const style = getProfile(opts.profile).redisBackendKeyprefix;
    const effective = lineGlobalKeyPrefix(
      opts.globalKeyPrefix ?? this.transport.global_keyprefix,
      opts.globalKeyPrefix === undefined ? style : 'separator-aware',
    );
    this.globalKeyPrefix = effective === '' ? undefined : effective;
    this.prefixes = backendKeyPrefixes(this.globalKeyPrefix);
    this.serializer = opts.serializer ?? 'json';
    this.accept = opts.accept ?? ['json'];
    this.limits = {
      ...(opts.maxResultSize === undefined ? {} : { maxResultSize: opts.maxResultSize }),
      ...(opts.maxDecompressedSize === undefined
        ? {}
        : { maxDecompressedSize: opts.maxDecompressedSize }),
    };
    // `prepare_expires(type=int)`: integer seconds; 0/None means SET without expiry.
    this.expires = Math.trunc(opts.expiresSeconds === undefined ? DAY : (opts.expiresSeconds ?? 0));
    const fe = opts.failureExpiresSeconds;
    this.failureExpires = fe === undefined || fe === null ? this.expires : Math.trunc(fe);
    this.profile = getProfile(opts.profile).name;
    this.now = opts.now ?? ((): Instant => new Date());
    // TLS (`redis_backend_use_ssl`, `rediss://…?ssl_cert_reqs=…`), Sentinel (`sentinel://…` +
    // `master_name`), timeouts: the same resolution as the broker's; RESP2 pinned.
    const connTransport = backendConnectionTransport(this.transport, opts.connection);
    const base = {
      ...redisConnectionOptions({
        url,
        transport: connTransport,
        ...(opts.ssl === undefined ? {} : { ssl: opts.ssl }),
        role: 'backend',
        setting: 'result_backend',
      }),
      ...(opts.clientName === undefined ? {} : { connectionName: opts.clientName }),
    };
    this.client = new Redis(base);
    this.writer = new RedisResultWriter(this.client);
    const sub = new Redis({ ...base, autoResubscribe: false });
    for (const c of [this.client, sub]) {
      c.on('error', (e: Error) => {
        if (c.status !== 'ready') this.connError = sentinelRoundError(e) ?? e;
        if (!this.closing) opts.onError?.(wrap(e, 'redis result backend'));
      });
      c.on('ready', () => {
        this.connError = undefined;
      });
      // `redis_backend_health_check_interval`: a dead connection is dropped and reconnected.
      const stop = watchHealth(c, {
        interval: connTransport.health_check_interval ?? 0,
        onStale: (ms) => {
          c.emit(
            'error',
            new BackendError(
              `got no reply for ${String(Math.round(ms / 1000))} seconds; dropping stale connection (redis_backend_health_check_interval)`,
            ),
          );
        },
      });
      c.once('end', stop);
    }
    this.chordJoin = new RedisChordJoin({
      client: this.client,
      profile: this.profile,
      serializer: this.serializer,
      accept: this.accept,
      expires: this.expires,
      ...(opts.chordExpiresSeconds === undefined ? {} : { chordExpires: opts.chordExpiresSeconds }),
      ...(opts.chordJoinTimeout === undefined ? {} : { joinTimeout: opts.chordJoinTimeout }),
      ...(this.globalKeyPrefix === undefined ? {} : { globalKeyPrefix: this.globalKeyPrefix }),
    });
    this.consumer = new RedisResultConsumer(
      sub,
      {
        keyFor: (id) => this.taskKey(id),
        decode: (body) => decodeMeta(body, this.serializer, this.accept, this.limits),
        mget: (keys) => this.client.mgetBuffer(...keys),
        onState: (id, meta) => {
          this.pending.deliver(id, meta);
        },
        onDecodeError: (id, err) => {
          this.pending.fail(
            id,
            new BackendGetMetaError(`cannot decode result of ${id}`, {
              cause: err,
              taskId: id,
            }),
          );
        },
        isWanted: (id) => this.pending.has(id),
      },
      opts.subscriptionIdleMs ?? 30_000,
    );
  }

  /** `get_key_for_task`: `celery-task-meta-<id>` with the global prefix. */
  taskKey(taskId: string): string {
    if (!taskId) throw new BackendError('task_id must not be empty');
    return this.prefixes.task + taskId;
  }

  /** `get_key_for_group`: `celery-taskset-meta-<gid>` with the global prefix. */
  groupKey(groupId: string): string {
    if (!groupId) throw new BackendError('group_id must not be empty');
    return this.prefixes.group + groupId;
  }

  private live(): void {
    if (this.closing) throw new BackendError('result backend is closed');
  }

  /** `on_task_call`: subscribe at send time; released after `subscriptionIdleMs` if unawaited. */
  async onTaskCall(taskId: string): Promise<void> {
    this.live();
    await this.consumer.consumeFrom(taskId, true);
  }

  /** Result channels subscribed now (diagnostics; issue 14: bounded subscription lifetime). */
  subscribedChannels(): string[] {
    return this.consumer.channels();
  }

  async getTaskMeta(taskId: string): Promise<TaskMeta> {
    this.live();
    let raw: Buffer | null;
    try {
      raw = await this.client.getBuffer(this.taskKey(taskId));
    } catch (e) {
      throw new BackendGetMetaError(`cannot GET result of ${taskId}`, { cause: e, taskId });
    }
    // `_get_task_meta_for`: a missing (or empty) value is PENDING.
    if (raw === null || raw.length === 0) return pendingMeta(taskId);
    return decodeMeta(raw, this.serializer, this.accept, this.limits);
  }

  async waitForResult(taskId: string, opts: WaitOptions = {}): Promise<TaskMeta> {
    this.live();
    // Register first, then SUBSCRIBE, then GET once: nothing published after the GET is missed
    // (`ResultConsumer.consume_from` + `on_wait_for_pending`).
    const done = this.pending.add(taskId, opts, (last) => {
      if (last) void this.consumer.cancelFor(taskId).catch(() => undefined);
    });
    // Not awaited before `done`: while Redis cannot be reached the SUBSCRIBE and GET wait in
    // ioredis' offline queue (in Sentinel mode without end), and the caller's timeout must
    // still fire on time.
    void (async () => {
      try {
        await this.consumer.consumeFrom(taskId);
        const meta = await this.getTaskMeta(taskId);
        if (meta.status !== 'PENDING') this.pending.deliver(taskId, meta);
      } catch (e) {
        this.pending.fail(taskId, wrap(e, `waiting for ${taskId}`));
      }
    })();
    return done;
  }

  async forget(taskId: string): Promise<void> {
    this.live();
    await this.consumer.cancelFor(taskId);
    this.pending.release(taskId);
    await this.client.del(this.taskKey(taskId)).catch((e: unknown) => {
      throw wrap(e, `cannot DEL result of ${taskId}`);
    });
  }

  /** `RedisBackend._set`: MULTI, SETEX (or SET when expires is 0), PUBLISH on the key, EXEC. */
  private async set(key: string, value: Uint8Array, expires: number): Promise<void> {
    const buf = toBuffer(value);
    const multi = this.client.multi();
    if (expires) multi.setex(key, expires, buf);
    else multi.set(key, buf);
    multi.publish(key, buf);
    const res = await multi.exec();
    const failed = res?.find(([err]) => err !== null);
    if (res === null || failed)
      throw new BackendError(`cannot store ${key}`, { cause: failed?.[0] });
  }

  async storeResult(
    taskId: string,
    result: PyValue,
    state: string,
    opts: StoreOptions = {},
  ): Promise<void> {
    this.live();
    const meta = buildResultMeta({
      taskId,
      state,
      result,
      traceback: opts.traceback ?? null,
      request: opts.request ?? null,
      ...(opts.currentChildren ? { currentChildren: opts.currentChildren } : {}),
      now: this.now(),
      extended: this.opts.extended === true,
      profile: this.profile,
    });
    try {
      // `BaseKeyValueStoreBackend._store_result`: GET, never overwrite a stored SUCCESS, then
      // `_set_with_state` (FAILURE documents use `result_failure_expires`, 5.7.0). Batched with
      // other tasks' writes, each task's commands unchanged (result-writer.ts).
      await this.writer.write({
        key: this.taskKey(taskId),
        taskId,
        expires: state === FAILURE ? this.failureExpires : this.expires,
        keep: (raw) =>
          raw !== null &&
          raw.length > 0 &&
          decodeMeta(raw, this.serializer, this.accept, this.limits).status === SUCCESS,
        encode: () => toBuffer(encodeDocument(meta, this.serializer, this.profile)),
      });
    } catch (e) {
      throw wrap(e, `cannot store result of ${taskId}`);
    }
  }

  /** `_save_group`: `{"result": <group tuple>}` through the same SETEX + PUBLISH path. */
  async saveGroup(groupId: string, groupTuple: PyValue): Promise<void> {
    this.live();
    const body = encodeDocument({ result: groupTuple }, this.serializer, this.profile);
    await this.set(this.groupKey(groupId), body, this.expires).catch((e: unknown) => {
      throw wrap(e, `cannot save group ${groupId}`);
    });
  }

  async restoreGroup(groupId: string): Promise<PyValue> {
    this.live();
    const raw = await this.client.getBuffer(this.groupKey(groupId)).catch((e: unknown) => {
      throw wrap(e, `cannot restore group ${groupId}`);
    });
    if (raw === null || raw.length === 0) return null;
    const doc = decodeDocument(raw, this.serializer, this.accept, this.limits);
    return isPyDict(doc) ? (doc.result ?? null) : null;
  }

  async deleteGroup(groupId: string): Promise<void> {
    this.live();
    await this.client.del(this.groupKey(groupId)).catch((e: unknown) => {
      throw wrap(e, `cannot delete group ${groupId}`);
    });
  }

  /** Whether a state is final; exported for callers composing their own waits. */
  static isReady(state: string): boolean {
    return READY_STATES.has(state);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.pending.failAll(new BackendError('result backend closed'));
      await this.consumer.close().catch(() => undefined);
      // QUIT only on a live connection; otherwise it would queue behind the reconnect.
      if (this.client.status !== 'ready') {
        await dropClient(this.client);
        return;
      }
      await closeClient(this.client);
    })();
    return this.closing;
  }
}
