import { BackendError } from '../../errors/errors';
import { getProfile, type CeleryProfileName } from '../../protocol/profiles';
import { buildResultMeta } from '../../protocol/result-meta';
import { SUCCESS } from '../../protocol/states';
import type { Instant } from '../../protocol/time';
import { isPyDict, type PyValue } from '../../serialization/py-values';
import type {
  BackendCapabilities,
  BackendCommonOptions,
  ResultBackend,
  StoreOptions,
  TaskMeta,
  WaitOptions,
} from '../backend';
import { decodeDocument, decodeMeta, encodeDocument, pendingMeta } from '../codec';
import { PendingResults } from '../pending';
import { MemoryChordJoin } from './memory-chord-join';

/** Options of {@link MemoryBackend}. */
export interface MemoryBackendOptions extends BackendCommonOptions {
  /** The store to use; share one between backends to share results (default: a private one). */
  store?: MemoryResultStore;
}

/**
 * The documents of one in-memory backend "server": every {@link MemoryBackend} on the same store
 * sees the same results and is woken by the others' writes (an app and a worker in one process).
 */
export class MemoryResultStore {
  readonly tasks = new Map<string, Uint8Array>();
  readonly groups = new Map<string, Uint8Array>();
  readonly chordJoin = new MemoryChordJoin();
  readonly views = new Set<{ notify(taskId: string, body: Uint8Array): void }>();

  /** Drop every document (between tests). */
  clear(): void {
    this.tasks.clear();
    this.groups.clear();
  }
}

const stores = new Map<string, MemoryResultStore>();

/**
 * The process-wide store of a `cache+memory://` URL, so that every app and worker of the process
 * configured with the same URL share results, as threads of one Python process share the app.
 */
export function sharedResultStore(url = 'cache+memory://'): MemoryResultStore {
  let s = stores.get(url);
  if (!s) stores.set(url, (s = new MemoryResultStore()));
  return s;
}

/**
 * Celery's `cache+memory://` result backend (`celery/backends/cache.py`, `CacheBackend` over
 * `DummyClient`) kept in process, with the Redis backend's observable semantics: documents are
 * encoded with `result_serializer` exactly as Redis stores them (so what cannot be serialized
 * fails the same way), a stored SUCCESS is never overwritten (`_store_result`), waiters get every
 * state change and settle on the first READY one, groups are saved/restored as
 * `{"result": <group tuple>}`, and chords join natively (`chordJoin`). Expiry is not applied:
 * the store lives as long as the object.
 */
export class MemoryBackend implements ResultBackend {
  readonly capabilities: BackendCapabilities = {
    supportsNativeJoin: true,
    persistent: false,
    supportsGroups: true,
  };
  readonly chordJoin: MemoryChordJoin;
  readonly store: MemoryResultStore;
  private readonly tasks: Map<string, Uint8Array>;
  private readonly groups: Map<string, Uint8Array>;
  private readonly pending = new PendingResults();
  private readonly serializer: string;
  private readonly accept: readonly string[];
  private readonly profile: CeleryProfileName;
  private readonly now: () => Instant;
  private closed = false;

  constructor(private readonly opts: MemoryBackendOptions = {}) {
    this.serializer = opts.serializer ?? 'json';
    this.accept = opts.accept ?? ['json'];
    this.profile = getProfile(opts.profile).name;
    this.now = opts.now ?? ((): Instant => new Date());
    this.store = opts.store ?? new MemoryResultStore();
    this.tasks = this.store.tasks;
    this.groups = this.store.groups;
    this.chordJoin = this.store.chordJoin;
    this.store.views.add(this);
  }

  /** Another view of the store wrote `taskId`: wake this view's waiters. */
  notify(taskId: string, body: Uint8Array): void {
    if (!this.pending.has(taskId)) return;
    try {
      this.pending.deliver(taskId, decodeMeta(body, this.serializer, this.accept));
    } catch (e) {
      this.pending.fail(taskId, e instanceof Error ? e : new BackendError(String(e)));
    }
  }

  /**
   * Every call crosses one microtask, like a real backend's round trip: callers cannot come to
   * rely on effects being synchronous, and errors always arrive as rejections.
   */
  private async live(): Promise<void> {
    await Promise.resolve();
    if (this.closed) throw new BackendError('result backend is closed');
  }

  private check(id: string, what: string): void {
    if (!id) throw new BackendError(`${what} must not be empty`);
  }

  async onTaskCall(_taskId: string): Promise<void> {
    await this.live();
  }

  async getTaskMeta(taskId: string): Promise<TaskMeta> {
    await this.live();
    this.check(taskId, 'task_id');
    const raw = this.tasks.get(taskId);
    return raw === undefined ? pendingMeta(taskId) : decodeMeta(raw, this.serializer, this.accept);
  }

  async waitForResult(taskId: string, opts: WaitOptions = {}): Promise<TaskMeta> {
    // Register before the first await: no state stored after this call can be missed.
    if (this.closed) throw new BackendError('result backend is closed');
    const done = this.pending.add(taskId, opts, () => undefined);
    try {
      const meta = await this.getTaskMeta(taskId);
      if (meta.status !== 'PENDING') this.pending.deliver(taskId, meta);
    } catch (e) {
      this.pending.fail(taskId, e instanceof Error ? e : new BackendError(String(e)));
    }
    return done;
  }

  async forget(taskId: string): Promise<void> {
    await this.live();
    this.tasks.delete(taskId);
  }

  async storeResult(
    taskId: string,
    result: PyValue,
    state: string,
    opts: StoreOptions = {},
  ): Promise<void> {
    await this.live();
    this.check(taskId, 'task_id');
    const prev = this.tasks.get(taskId);
    // `BaseKeyValueStoreBackend._store_result`: a SUCCESS already stored is never overwritten.
    if (prev !== undefined && decodeMeta(prev, this.serializer, this.accept).status === SUCCESS) {
      return;
    }
    const doc = buildResultMeta({
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
    const body = encodeDocument(doc, this.serializer, this.profile);
    this.tasks.set(taskId, body);
    for (const v of this.store.views) v.notify(taskId, body);
  }

  async saveGroup(groupId: string, groupTuple: PyValue): Promise<void> {
    await this.live();
    this.check(groupId, 'group_id');
    this.groups.set(groupId, encodeDocument({ result: groupTuple }, this.serializer, this.profile));
  }

  async restoreGroup(groupId: string): Promise<PyValue> {
    await this.live();
    const raw = this.groups.get(groupId);
    if (raw === undefined) return null;
    const doc = decodeDocument(raw, this.serializer, this.accept);
    return isPyDict(doc) ? (doc.result ?? null) : null;
  }

  async deleteGroup(groupId: string): Promise<void> {
    await this.live();
    this.groups.delete(groupId);
  }

  /** Ids of every stored task document (for tests). */
  taskIds(): string[] {
    return [...this.tasks.keys()];
  }

  async close(): Promise<void> {
    await Promise.resolve();
    if (!this.closed) {
      this.closed = true;
      this.store.views.delete(this);
      this.pending.failAll(new BackendError('result backend closed'));
    }
  }
}
