import type { CeleryProfileName } from '../protocol/profiles';
import type { Instant } from '../protocol/time';
import type { ParsedResultMeta, ResultRequest } from '../protocol/result-meta';
import type { PyValue } from '../serialization/py-values';

/**
 * A decoded result document, as the protocol layer parses it (`parseResultMeta`): `status`,
 * `result` (a {@link PyValue}), `traceback`, `children`, `dateDone`, `error` (rebuilt exception
 * for RETRY/FAILURE/REVOKED) and `raw` (every key as stored, incl. `group_id`, `parent_id` and the
 * `result_extended` fields). A task nobody wrote yet reads as `{status: 'PENDING', result: null}`,
 * as `celery/backends/base.py, BaseKeyValueStoreBackend._get_task_meta_for` reports it.
 */
export type TaskMeta = ParsedResultMeta;

/** Options of {@link ResultBackend.waitForResult}. */
export interface WaitOptions {
  /** Give up after this many milliseconds with a `CeleryTimeoutError` (default: wait forever). */
  timeoutMs?: number;
  /** Abort the wait; rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Every state seen while waiting (e.g. STARTED, RETRY, custom `PROGRESS`), READY included, in
   * arrival order; mirrors `AsyncResult.get(on_message=…)`.
   */
  onState?: (meta: TaskMeta) => void;
}

/**
 * The worker's request, as `Backend.store_result(..., request=…)` reads it. `replyTo` and
 * `correlationId` are only used by the RPC backend (`RPCBackend.destination_for`).
 */
export interface StoreRequest extends ResultRequest {
  replyTo?: string | null;
  correlationId?: string | null;
}

/** Options of {@link ResultBackend.storeResult}. */
export interface StoreOptions {
  /** Formatted Python-style traceback for exception states; `null` otherwise. */
  traceback?: string | null;
  /** The task request; without one, `children` is `[]` and no group/parent/extended keys appear. */
  request?: StoreRequest | null;
  /** Without a request: the running task's children, stored as `children` (see `buildResultMeta`). */
  currentChildren?: readonly PyValue[];
}

/** What a backend can do (`Backend.supports_native_join`, `Backend.persistent`). */
export interface BackendCapabilities {
  /** Results of many tasks can be awaited together without polling each key. */
  readonly supportsNativeJoin: boolean;
  /** Results survive the client (Redis: yes; RPC: only if `result_persistent`). */
  readonly persistent: boolean;
  /** `saveGroup`/`restoreGroup`/`deleteGroup` work (not on RPC / disabled). */
  readonly supportsGroups: boolean;
  /**
   * `waitForResult` subscribes and then reads the stored state, so a result stored before the
   * wait is still seen: the client may skip `onTaskCall` at send time (Redis). Absent: call it.
   */
  readonly readsStoredOnWait?: boolean;
}

/** The header task reporting to a chord (`request.id`, `.group`, `.group_index`, `.chord`). */
export interface ChordPartRequest {
  taskId: string;
  groupId: string | null;
  groupIndex: number | null;
  /** The chord body signature dict (`embed.chord`). */
  chord: PyValue;
}

/** What the joining backend asks its caller to do once the chord is complete. */
export interface ChordJoinHooks {
  /** `callback.delay(results)`: publish the body with the ordered header results prepended. */
  publishBody(body: PyValue, results: PyValue[]): Promise<void>;
  /**
   * `chord_error_from_stack(callback, ChordError(message))`: store FAILURE for the body, call
   * its errbacks, fail its chain. `cause`: the failed dependency's stored exception (the
   * ChordError's `__cause__`, which a group body's members are failed with).
   */
  failBody(body: PyValue, message: string, cause?: PyValue): Promise<void>;
}

/** Native chord join (`Backend.set_chord_size` + `on_chord_part_return`), Redis only. */
export interface ChordJoin {
  /** `set_chord_size(group_id, size)`: written right before the last header task is sent. */
  setChordSize(groupId: string, size: number): Promise<void>;
  /** `add_to_chord(group_id, result)`: one more header member (`INCR .t`, `RedisBackend`). */
  addToChord?(groupId: string): Promise<void>;
  /**
   * `on_chord_part_return`: record one header result (every completion, success or failure); the
   * completer publishes the body (or fails it) through `hooks`. `result` is already encoded (an
   * exception dict for failures).
   */
  onChordPartReturn(
    req: ChordPartRequest,
    state: string,
    result: PyValue,
    hooks: ChordJoinHooks,
  ): Promise<void>;
}

/**
 * The result backend contract shared by the client (Node calls Python) and the TypeScript worker.
 * Modelled on Celery's `Backend` + `AsyncBackendMixin` (`celery/backends/base.py`,
 * `celery/backends/asynchronous.py`).
 */
export interface ResultBackend {
  readonly capabilities: BackendCapabilities;
  /**
   * Celery's `on_task_call`: call *before* publishing a task so that the reply cannot be missed
   * (Redis: SUBSCRIBE to the key channel; RPC: declare the reply queue and start consuming).
   */
  onTaskCall(taskId: string): Promise<void>;
  /** The latest known document of a task; PENDING when unknown. */
  getTaskMeta(taskId: string): Promise<TaskMeta>;
  /** Resolves with the first READY (SUCCESS/FAILURE/REVOKED) document. Never polls. */
  waitForResult(taskId: string, opts?: WaitOptions): Promise<TaskMeta>;
  /** Delete the stored result (`AsyncResult.forget`). */
  forget(taskId: string): Promise<void>;
  /**
   * Worker side: store a state. `result` is already encoded (an exception dict from
   * `prepareException` for RETRY/FAILURE/REVOKED, the return value otherwise).
   */
  storeResult(taskId: string, result: PyValue, state: string, opts?: StoreOptions): Promise<void>;
  /** `GroupResult.save()`: `result` is the group tuple (`groupResultTuple`). */
  saveGroup(groupId: string, groupTuple: PyValue): Promise<void>;
  /** The saved group tuple, or `null` when absent. */
  restoreGroup(groupId: string): Promise<PyValue>;
  deleteGroup(groupId: string): Promise<void>;
  /** Close connections and reject outstanding waits; idempotent. */
  close(): Promise<void>;
  /** Native chord join; absent where Celery has none (rpc: chords are refused). */
  readonly chordJoin?: ChordJoin;
}

/** Options every backend understands. */
export interface BackendCommonOptions {
  /** `result_serializer` (default `json`). */
  serializer?: string;
  /** `result_accept_content` (default `['json']`). */
  accept?: readonly string[];
  /** `result_expires` in seconds (default 86400; `0`/`null` = never). */
  expiresSeconds?: number | null;
  /** `result_extended`. */
  extended?: boolean;
  /** Celery line whose exact output to reproduce (`celery-5.7` default). */
  profile?: CeleryProfileName;
  /** Clock for `date_done` (a `Date`, or a `PyDateTime` for µs precision). */
  now?: () => Instant;
  /** `resultMaxSize`: result documents larger than this (bytes) are refused when read. */
  maxResultSize?: number;
  /** `messageMaxDecompressedSize`, for compressed result documents (`result_compression`). */
  maxDecompressedSize?: number;
}
