import type { Redis } from 'ioredis';
import { BackendError } from '../../errors/errors';
import { READY_STATES } from '../../protocol/states';
import type { TaskMeta } from '../backend';
import { dropClient } from '../../brokers/redis/close-client';

/** What the consumer needs from its backend. */
export interface ConsumerHost {
  keyFor(taskId: string): string;
  decode(body: Uint8Array): TaskMeta;
  /** `MGET` on the command connection (never the subscriber). */
  mget(keys: readonly string[]): Promise<(Buffer | null)[]>;
  /** A state arrived (pub/sub message or reconnect MGET). */
  onState(taskId: string, meta: TaskMeta): void;
  onDecodeError(taskId: string, err: unknown): void;
  /** Whether someone still waits for the id (else a READY state unsubscribes). */
  isWanted(taskId: string): boolean;
}

/**
 * Celery's Redis `ResultConsumer` (`celery/backends/redis.py`): ONE subscriber connection for all
 * outstanding results, subscribed to `celery-task-meta-<id>` channels (the same name as the key,
 * `RedisBackend._set` PUBLISHes there). A READY state unsubscribes (`_maybe_cancel_ready_task`).
 *
 * On reconnect Celery MGETs the subscribed keys and then re-SUBSCRIBEs (`_reconnect_pubsub`); we
 * re-SUBSCRIBE first and MGET after, so a result published between the two is not missed. The
 * resulting states are the same.
 */
export class RedisResultConsumer {
  private readonly subscribed = new Map<string, string>(); // key → task id
  /**
   * Subscriptions made at send time (`on_task_call`) that nobody waits for, and when they lapse.
   * Celery drops them when the `AsyncResult` is garbage collected (`AsyncResult.__del__` →
   * `remove_pending_result` → `cancel_for`); here they lapse after `idleMs`. A later wait loses
   * nothing: `waitForResult` subscribes again and GETs the stored state.
   */
  private readonly lapses = new Map<string, number>(); // key → deadline (ms)
  private sweeper: NodeJS.Timeout | undefined;
  /** Keys to SUBSCRIBE in the next batch (one SUBSCRIBE for a burst of sends). */
  private toSubscribe: string[] = [];
  private subscribing: Promise<void> | undefined;
  /** Pub/sub commands run one at a time, in call order. */
  private chain: Promise<void> = Promise.resolve();
  private everReady = false;
  private closed = false;

  constructor(
    private readonly sub: Redis,
    private readonly host: ConsumerHost,
    /** How long an un-awaited send-time subscription is kept (0: until the result arrives). */
    private readonly idleMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {
    sub.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      this.onMessage(channel.toString('utf8'), message);
    });
    sub.on('ready', () => {
      if (this.everReady) this.onReconnect();
      this.everReady = true;
    });
  }

  private enqueue(op: () => Promise<unknown>): Promise<void> {
    const next = this.chain.then(op).then(() => undefined);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private onMessage(channel: string, body: Buffer): void {
    const taskId = this.subscribed.get(channel);
    if (taskId === undefined) return;
    let meta: TaskMeta;
    try {
      meta = this.host.decode(body);
    } catch (e) {
      this.host.onDecodeError(taskId, e);
      return;
    }
    this.host.onState(taskId, meta);
    if (READY_STATES.has(meta.status) && !this.host.isWanted(taskId)) {
      void this.cancelFor(taskId).catch(() => undefined);
    }
  }

  private onReconnect(): void {
    const keys = [...this.subscribed.keys()];
    if (keys.length === 0) return;
    void this.enqueue(async () => {
      await this.sub.subscribe(...keys);
      const values = await this.host.mget(keys);
      keys.forEach((key, i) => {
        const v = values[i];
        if (v !== null && v !== undefined && v.length > 0) this.onMessage(key, v);
      });
    }).catch(() => undefined); // ioredis keeps retrying; waiters keep waiting
  }

  /**
   * `consume_from`: SUBSCRIBE to the task's channel unless already subscribed. `lapse`: a
   * send-time subscription, released after `idleMs` unless someone waits for the id by then.
   */
  consumeFrom(taskId: string, lapse = false): Promise<void> {
    if (this.closed) return Promise.reject(new BackendError('result backend is closed'));
    const key = this.host.keyFor(taskId);
    if (lapse && this.idleMs > 0) this.scheduleLapse(key);
    else this.lapses.delete(key);
    if (this.subscribed.has(key)) return this.subscribing ?? this.chain;
    this.subscribed.set(key, taskId);
    this.toSubscribe.push(key);
    this.subscribing ??= this.enqueue(async () => {
      const keys = this.toSubscribe;
      this.toSubscribe = [];
      this.subscribing = undefined;
      const live = keys.filter((k) => this.subscribed.has(k));
      if (live.length === 0) return;
      try {
        await this.sub.subscribe(...live);
      } catch (e) {
        for (const k of live) this.subscribed.delete(k);
        throw new BackendError(`cannot SUBSCRIBE ${live[0] ?? ''}`, { cause: e });
      }
    });
    return this.subscribing;
  }

  private scheduleLapse(key: string): void {
    this.lapses.set(key, this.now() + this.idleMs);
    if (this.sweeper) return;
    this.sweeper = setInterval(
      () => {
        this.sweep();
      },
      Math.min(this.idleMs, 1000),
    );
    this.sweeper.unref();
  }

  /** Release lapsed send-time subscriptions nobody waits for, in batched UNSUBSCRIBEs. */
  private sweep(): void {
    const t = this.now();
    const gone: string[] = [];
    for (const [key, deadline] of this.lapses) {
      if (deadline > t) continue;
      this.lapses.delete(key);
      const id = this.subscribed.get(key);
      if (id !== undefined && !this.host.isWanted(id)) {
        this.subscribed.delete(key);
        gone.push(key);
      }
    }
    if (this.lapses.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
    for (let i = 0; i < gone.length; i += 1000) {
      const batch = gone.slice(i, i + 1000);
      void this.enqueue(async () => {
        const still = batch.filter((k) => !this.subscribed.has(k));
        if (still.length > 0 && !this.closed) await this.sub.unsubscribe(...still);
      }).catch(() => undefined);
    }
  }

  /** `cancel_for`: UNSUBSCRIBE the task's channel. */
  cancelFor(taskId: string): Promise<void> {
    const key = this.host.keyFor(taskId);
    this.lapses.delete(key);
    if (!this.subscribed.delete(key) || this.closed) return Promise.resolve();
    return this.enqueue(async () => {
      // Subscribed again meanwhile (a new wait for the same id): keep it.
      if (this.subscribed.has(key)) return;
      await this.sub.unsubscribe(key);
    });
  }

  /** Channels currently subscribed (for tests and diagnostics). */
  channels(): string[] {
    return [...this.subscribed.keys()];
  }

  /** Drop the subscriber connection; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.subscribed.clear();
    this.lapses.clear();
    if (this.sweeper) clearInterval(this.sweeper);
    // Not connected: its queued SUBSCRIBEs would wait for a connection that may never come (a
    // Sentinel estate whose sentinels refuse us); closing now fails them, and the chain settles.
    if (this.sub.status !== 'ready') this.sub.disconnect();
    await this.chain.catch(() => undefined);
    await dropClient(this.sub);
  }
}
