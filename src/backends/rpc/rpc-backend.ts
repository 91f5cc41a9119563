import type { Broker, Consumer, Delivery, QueueSpec } from '../../brokers/broker';
import { BackendError, MessageReturnedError, isCeleryError } from '../../errors/errors';
import { getProfile, type CeleryProfileName } from '../../protocol/profiles';
import { buildRpcResultBody, parseResultMeta } from '../../protocol/result-meta';
import { READY_STATES } from '../../protocol/states';
import type { Instant } from '../../protocol/time';
import { loads } from '../../serialization/registry';
import type { PyValue } from '../../serialization/py-values';
import type {
  BackendCapabilities,
  BackendCommonOptions,
  ResultBackend,
  StoreOptions,
  TaskMeta,
  WaitOptions,
} from '../backend';
import { checkResultSize, contentOf, encodeDocument, pendingMeta } from '../codec';
import { PendingResults } from '../pending';

/** Options of {@link RpcBackend}. */
export interface RpcBackendOptions extends BackendCommonOptions {
  /** An AMQP broker (RPC results need the default exchange; Celery refuses other transports). */
  broker: Broker;
  /**
   * Reply queue name, Celery's `app.thread_oid` (kombu `oid_from`). Any unique string is
   * wire-compatible; the client layer passes a uuid.
   */
  oid: string;
  /** `result_persistent`: delivery_mode 2 instead of 1. */
  persistent?: boolean;
  /** Out-of-band states kept for ids nobody waits for yet (oldest dropped first). */
  maxBuffered?: number;
  onError?: (err: Error) => void;
}

const DAY = 86_400;

/**
 * Re-publish delays (ms) of a result RabbitMQ returned because the reply queue did not exist at
 * that moment. Celery 5.6's client (`celery/backends/rpc.py`, `ResultConsumer.drain_events` →
 * `reconnect_on_error`) takes each idle 1 s `drain_events` timeout for a lost connection and
 * rebuilds its consumer: the only consumer of the `auto_delete` reply queue goes, RabbitMQ
 * deletes the queue, and the new consumer declares it again tens of ms later (5.7 fixed this in
 * `celery/backends/asynchronous.py`, `except socket.timeout`). A Python worker's result sent in
 * that window is silently lost; ours is sent again once the queue is back. About 1.5 s in all:
 * after that the client is taken to be gone, and the result is dropped as Celery drops it.
 */
const RETURNED_RETRY_MS = [10, 25, 50, 100, 200, 400, 700] as const;

/**
 * `RPCBackend.binding` (`celery/backends/rpc.py`): a queue named after the oid on the default
 * exchange, routing key = name, `auto_delete=True`, `x-expires = result_expires * 1000`;
 * `durable=True` on Celery 5.7.0, `False` before (a mismatch is a 406 PRECONDITION_FAILED).
 */
export function rpcReplyQueue(
  oid: string,
  profile: CeleryProfileName | undefined,
  expiresSeconds: number | null | undefined,
): QueueSpec {
  const expires = expiresSeconds === undefined ? DAY : expiresSeconds;
  return {
    name: oid,
    exchange: '',
    routingKey: oid,
    durable: getProfile(profile).rpcDurableReplyQueue,
    autoDelete: true,
    ...(expires ? { arguments: { 'x-expires': Math.trunc(expires * 1000) } } : {}),
  };
}

/**
 * Celery's RPC result backend, both sides: clients consume their reply queue keeping the latest
 * state per correlation id (out-of-band ids buffered, as `on_out_of_band_result`); workers publish
 * each state to `''`/`reply_to` (`RPCBackend.store_result`).
 */
export class RpcBackend implements ResultBackend {
  readonly capabilities: BackendCapabilities;
  private readonly pending = new PendingResults();
  /** Latest state per task id, in arrival order (Map order = eviction order). */
  private readonly latest = new Map<string, TaskMeta>();
  private readonly queue: QueueSpec;
  private readonly accept: readonly string[];
  private readonly serializer: string;
  private readonly now: () => Instant;
  private consumer: Promise<Consumer> | undefined;
  private closing: Promise<void> | undefined;
  /** Timers of results being sent again after a `basic.return` (cleared on close). */
  private readonly resends = new Set<ReturnType<typeof setTimeout>>();

  constructor(private readonly opts: RpcBackendOptions) {
    this.queue = rpcReplyQueue(opts.oid, opts.profile, opts.expiresSeconds);
    this.accept = opts.accept ?? ['json'];
    this.serializer = opts.serializer ?? 'json';
    this.now = opts.now ?? ((): Instant => new Date());
    this.capabilities = {
      supportsNativeJoin: true,
      persistent: opts.persistent === true,
      supportsGroups: false,
    };
  }

  /** The reply queue clients put in `reply_to`. */
  get oid(): string {
    return this.opts.oid;
  }

  private live(): void {
    if (this.closing) throw new BackendError('result backend is closed');
  }

  /** Declare the reply queue and consume it (once; concurrent callers share the attempt). */
  private ensureConsumer(): Promise<Consumer> {
    this.consumer ??= (async () => {
      await this.opts.broker.connect();
      await this.opts.broker.declareQueue(this.queue);
      return this.opts.broker.consume([this.queue.name], (d) => this.onDelivery(d), {
        prefetch: 0,
        onError: (e) => this.opts.onError?.(e),
      });
    })().catch((e: unknown) => {
      this.consumer = undefined;
      throw isCeleryError(e) ? e : new BackendError('cannot consume the reply queue', { cause: e });
    });
    return this.consumer;
  }

  private async onDelivery(d: Delivery): Promise<void> {
    // Celery consumes with no_ack: the state lives in memory from here on.
    await d.ack();
    let meta: TaskMeta;
    try {
      const m = d.message;
      checkResultSize(m.body, this.opts);
      meta = parseResultMeta(
        loads(m.body, m.contentType, m.contentEncoding, { accept: this.accept }),
      );
    } catch (e) {
      this.opts.onError?.(new BackendError('undecodable RPC result message', { cause: e }));
      return;
    }
    // `_get_message_task_id`: correlation_id first, the body's task_id for old senders.
    const taskId = d.message.properties.correlation_id ?? meta.taskId;
    if (!taskId) return;
    this.latest.delete(taskId);
    this.latest.set(taskId, meta);
    const max = this.opts.maxBuffered ?? 10_000;
    for (const id of this.latest.keys()) {
      if (this.latest.size <= max) break;
      if (!this.pending.has(id)) this.latest.delete(id);
    }
    this.pending.deliver(taskId, meta);
  }

  async onTaskCall(_taskId: string): Promise<void> {
    this.live();
    await this.ensureConsumer();
  }

  getTaskMeta(taskId: string): Promise<TaskMeta> {
    this.live();
    return Promise.resolve(this.latest.get(taskId) ?? pendingMeta(taskId));
  }

  async waitForResult(taskId: string, opts: WaitOptions = {}): Promise<TaskMeta> {
    this.live();
    const done = this.pending.add(taskId, opts, () => undefined);
    const known = this.latest.get(taskId);
    if (known) this.pending.deliver(taskId, known);
    try {
      await this.ensureConsumer();
    } catch (e) {
      this.pending.fail(
        taskId,
        e instanceof Error ? e : new BackendError('cannot consume replies', { cause: e }),
      );
    }
    return done;
  }

  /** `RPCBackend.forget`: only the local buffer (nothing is stored server-side); waiters released. */
  forget(taskId: string): Promise<void> {
    this.latest.delete(taskId);
    this.pending.release(taskId);
    return Promise.resolve();
  }

  /**
   * Worker side (`RPCBackend.store_result`): publish to `''`/`reply_to` with the correlation id,
   * delivery_mode 1 (2 if persistent), priority 0, headers `{}`; nothing if there is no reply_to.
   */
  async storeResult(
    taskId: string,
    result: PyValue,
    state: string,
    opts: StoreOptions = {},
  ): Promise<void> {
    this.live();
    const request = opts.request ?? null;
    const replyTo = request?.replyTo;
    if (!replyTo) return;
    const body = buildRpcResultBody({
      taskId,
      state,
      result,
      traceback: opts.traceback ?? null,
      request,
      now: this.now(),
      extended: this.opts.extended === true,
      ...(this.opts.profile === undefined ? {} : { profile: this.opts.profile }),
    });
    const [contentType, contentEncoding] = contentOf(this.serializer);
    const message = {
      body: encodeDocument(body, this.serializer, this.opts.profile),
      contentType,
      contentEncoding,
      headers: {},
      properties: {
        correlation_id: request.correlationId ?? taskId,
        delivery_mode: this.opts.persistent === true ? 2 : 1,
        priority: 0,
      },
    };
    // `mandatory` only tells us when the reply queue is missing; it is not part of the message.
    const send = (): Promise<void> =>
      this.opts.broker.publish(message, { exchange: '', routingKey: replyTo }, { mandatory: true });
    try {
      await send();
    } catch (e) {
      if (e instanceof MessageReturnedError) {
        this.resend(send, 0);
        return;
      }
      throw isCeleryError(e)
        ? e
        : new BackendError(`cannot publish result of ${taskId}`, { cause: e });
    }
  }

  /**
   * Send a returned result again after {@link RETURNED_RETRY_MS}[attempt], without holding up
   * the task that stored it (the client may be gone for good).
   */
  private resend(send: () => Promise<void>, attempt: number): void {
    const delay = RETURNED_RETRY_MS[attempt];
    if (delay === undefined || this.closing) return;
    const t = setTimeout(() => {
      this.resends.delete(t);
      send().catch((e: unknown) => {
        if (e instanceof MessageReturnedError) this.resend(send, attempt + 1);
        else this.opts.onError?.(e instanceof Error ? e : new BackendError(String(e)));
      });
    }, delay);
    t.unref();
    this.resends.add(t);
  }

  saveGroup(): Promise<void> {
    return Promise.reject(new BackendError('save_group is not supported by this backend.'));
  }

  restoreGroup(): Promise<PyValue> {
    return Promise.reject(new BackendError('restore_group is not supported by this backend.'));
  }

  deleteGroup(): Promise<void> {
    return Promise.reject(new BackendError('delete_group is not supported by this backend.'));
  }

  /** Whether a state is final. */
  static isReady(state: string): boolean {
    return READY_STATES.has(state);
  }

  /** Cancel the reply consumer (the broker stays open: it is the caller's). Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const t of this.resends) clearTimeout(t);
      this.resends.clear();
      this.pending.failAll(new BackendError('result backend closed'));
      const c = await this.consumer?.catch(() => undefined);
      await c?.cancel().catch(() => undefined);
    })();
    return this.closing;
  }
}
