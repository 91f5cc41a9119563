// The field-table decoder patch must be installed before amqplib's lib/defs.js loads.
import { assertCodecPatched } from './codec-patch';
import * as amqplib from 'amqplib';
import type { ChannelModel } from 'amqplib';
import type { BackoffPolicy, BrokerStatus, BrokerStatusListener } from '../broker';
import type { AmqpBrokerUrl } from '../url';
import { ConnectionGaveUpError } from './errors';
import { toBrokerError } from './errors-map';
import { FailoverCycle, roundRobin, type FailoverStrategy } from './failover';

/** Reconnect semantics of Celery's settings (`celery/app/defaults.py`). */
export interface RetrySettings {
  /** `broker_connection_retry` (default true): reconnect after a loss. */
  retry: boolean;
  /** `broker_connection_max_retries` (default 100; `null` = forever). */
  maxRetries: number | null;
  backoff: BackoffPolicy;
  sleep: (ms: number) => Promise<void>;
  /**
   * After a loss, start again from the first URL of the failover list rather than from the node
   * that was lost: what Celery's *worker* does, because its consumer closes the lost connection
   * and builds a new one (`celery/worker/consumer/consumer.py`,
   * `on_connection_error_after_connected` → `blueprint.restart` → `Consumer.connect` →
   * `app.connection_for_read()`), whose cycle starts at `alt[0]`. A client's pooled connection
   * keeps its cycle (`Connection.ensure_connection` → `maybe_switch_next`): default false.
   */
  restartFromFirstOnLoss?: boolean;
}

export interface ConnectionHooks {
  /** A new connection is up: reopen channels, re-declare, re-consume. */
  opened(model: ChannelModel): Promise<void>;
  /** The connection went away (every channel with it). */
  lost(reason: Error): void;
}

/** How long a caller waits for a running recovery before trying on its own (3 × 4 s). */
const RECOVERY_WAIT_MS = 12_000;

/**
 * One AMQP connection with kombu's recovery story (`kombu/connection.py`,
 * `Connection._ensure_connection` → `retry_over_time`): after a loss the first reconnect is made
 * at once; each failure waits `backoff(n)` (2 s, +2 s, ≤ 30 s) and is reported as `reconnecting`
 * (Celery logs it as `consumer: Cannot connect to …: <reason>.\nTrying again in 2.00 seconds...
 * (1/100)`, `consumer.py`, `_error_handler`); after `max_retries` failures: `gave-up`.
 *
 * With a failover list (`amqp://h1//;amqp://h2//`) every failed attempt switches to the strategy's
 * next node (`maybe_switch_next`) and only a failure that completes a round over all nodes sleeps
 * (`completes_cycle`); the others are reported with `delayMs: 0, failover: true` (Celery: `Will
 * retry using next failover.`). `target` is always the node in use or being tried.
 */
export class AmqpConnection {
  model: ChannelModel | undefined;
  private connecting: Promise<ChannelModel> | undefined;
  /** The recovery after a loss, while it runs: callers wait for it, not for one node's attempt. */
  private recovering: Promise<void> | undefined;
  private closed = false;
  private readonly listeners = new Set<BrokerStatusListener>();
  private readonly nodes: FailoverCycle<AmqpBrokerUrl>;

  constructor(
    urls: AmqpBrokerUrl | readonly AmqpBrokerUrl[],
    private readonly heartbeat: number,
    private readonly connectionName: string | undefined,
    private readonly retry: RetrySettings,
    private readonly hooks: ConnectionHooks,
    strategy: FailoverStrategy<AmqpBrokerUrl> = roundRobin,
  ) {
    assertCodecPatched((m) => {
      console.warn(m);
    });
    this.nodes = new FailoverCycle<AmqpBrokerUrl>(isUrlList(urls) ? urls : [urls], strategy);
  }

  /** The node in use (or being tried), as `Connection.as_uri()` prints it. */
  get target(): string {
    return amqpTarget(this.nodes.current);
  }

  onStatus(listener: BrokerStatusListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private emit(s: BrokerStatus): void {
    for (const l of this.listeners) l(s);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * One round (concurrent callers share it): each node of the failover list once, in the
   * strategy's order, without sleeping (`Connection.connect` tries the next alternate at once);
   * resolves with the open connection or throws the last node's error.
   */
  connect(attempt = 1): Promise<ChannelModel> {
    if (this.closed) return Promise.reject(toBrokerError(new Error('broker is closed'), 'connect'));
    if (this.model) return Promise.resolve(this.model);
    // During a recovery the shared promise is one node's attempt: a publish that took it would
    // fail on the dead node while the recovery moves on to the next one. kombu's publish
    // (`Connection.ensure`) waits for the reconnection instead; so do we, for a bounded time
    // (Celery's 3 publish retries × `broker_connection_timeout` 4 s), then as before.
    const rec = this.recovering;
    if (rec) return this.afterRecovery(rec, attempt);
    this.connecting ??= this.round(attempt).finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async round(attempt: number): Promise<ChannelModel> {
    for (let i = 0; ; i++) {
      try {
        return await this.open(attempt);
      } catch (e) {
        const reason = e instanceof Error ? e : new Error(String(e));
        const last = i + 1 >= this.nodes.size;
        if (!last && !this.closed) this.failover(reason, i + 1);
        else this.nodes.next();
        if (last || this.closed) throw reason;
      }
    }
  }

  private async afterRecovery(rec: Promise<void>, attempt: number): Promise<ChannelModel> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, RECOVERY_WAIT_MS);
      timer.unref();
    });
    await Promise.race([rec, limit]);
    clearTimeout(timer);
    if (this.model) return this.model;
    if (this.closed) throw toBrokerError(new Error('broker is closed'), 'connect');
    // Still recovering after the bound (or it gave up): one attempt of our own, as before.
    return this.attempt(attempt);
  }

  /** A failed node that does not end a round: report it, then try the next one at once. */
  private failover(reason: Error, attempt: number): void {
    this.emit({
      state: 'reconnecting',
      target: this.target,
      attempt,
      delayMs: 0,
      reason,
      failover: true,
    });
    this.nodes.next();
  }

  /** One attempt on the current node (concurrent callers share it). */
  private attempt(attempt: number): Promise<ChannelModel> {
    if (this.model) return Promise.resolve(this.model);
    this.connecting ??= this.open(attempt).finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async open(attempt: number): Promise<ChannelModel> {
    const u = this.nodes.current;
    this.emit({ state: 'connecting', target: this.target, attempt });
    let model: ChannelModel;
    try {
      model = await amqplib.connect(
        {
          protocol: u.tls ? 'amqps' : 'amqp',
          hostname: u.hostname,
          port: u.port,
          username: u.username,
          password: u.password,
          vhost: u.vhost,
          heartbeat: this.heartbeat,
        },
        // RabbitMQ shows it in `rabbitmqctl list_connections client_properties` (kombu sends
        // `connection_name` the same way when given one).
        this.connectionName === undefined
          ? {}
          : { clientProperties: { connection_name: this.connectionName } },
      );
    } catch (e) {
      throw toBrokerError(e, `cannot connect to ${this.target}`);
    }
    model.on('error', () => undefined); // 'close' follows with the same error
    model.on('close', (err?: Error) => {
      this.onClose(model, err);
    });
    if (this.closed) {
      await model.close().catch(() => undefined);
      throw toBrokerError(new Error('broker is closed'), 'connect');
    }
    this.model = model;
    try {
      await this.hooks.opened(model);
    } catch (e) {
      // A half-restored connection is worse than none: drop it and let recovery start over.
      this.model = undefined;
      await model.close().catch(() => undefined);
      throw toBrokerError(e, 'restoring channels');
    }
    this.emit({ state: 'connected', target: this.target });
    return model;
  }

  private onClose(model: ChannelModel, err: Error | undefined): void {
    if (this.model !== model) return;
    this.model = undefined;
    if (this.closed) return;
    const reason = toBrokerError(err ?? new Error('connection closed'), 'connection lost');
    this.emit({ state: 'lost', target: this.target, reason });
    this.hooks.lost(reason);
    if (this.retry.restartFromFirstOnLoss === true) this.nodes.restart();
    const rec = this.recover(reason).finally(() => {
      if (this.recovering === rec) this.recovering = undefined;
    });
    this.recovering = rec;
  }

  private async recover(first: Error): Promise<void> {
    let reason = first;
    if (!this.retry.retry) {
      this.gaveUp(reason, 'broker_connection_retry is disabled');
      return;
    }
    // `retry_over_time` + `_ensure_connection.on_error`: `retries` counts failed attempts,
    // `rounds` the sleeps (the worker's `broker_connection_retry_attempt` in Celery 5.7).
    let rounds = 0;
    for (let retries = 0; !this.closed; retries++) {
      try {
        await this.attempt(rounds + 1);
        return;
      } catch (e) {
        reason = e instanceof Error ? e : new Error(String(e));
      }
      if (this.isClosed) return;
      const max = this.retry.maxRetries;
      if (max !== null && retries >= max) {
        this.gaveUp(reason, `gave up after ${String(retries + 1)} attempts`);
        return;
      }
      if (!this.nodes.completesCycle(retries)) {
        this.failover(reason, retries + 1);
        continue;
      }
      const delayMs = this.retry.backoff(++rounds);
      if (delayMs === undefined) {
        this.gaveUp(reason, `gave up after ${String(retries + 1)} attempts`);
        return;
      }
      this.emit({ state: 'reconnecting', target: this.target, attempt: rounds, delayMs, reason });
      this.nodes.next();
      await this.retry.sleep(delayMs);
    }
  }

  private gaveUp(reason: Error, why: string): void {
    this.emit({
      state: 'gave-up',
      target: this.target,
      reason: new ConnectionGaveUpError(`${why}: ${reason.message}`, { cause: reason }),
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.connecting?.catch(() => undefined);
    const model = this.model;
    this.model = undefined;
    if (model) await model.close().catch(() => undefined);
  }
}

/** `Connection.as_uri()` as Celery prints it: `amqp://guest:**@127.0.0.1:5672//`. */
export function amqpTarget(u: AmqpBrokerUrl): string {
  return `${u.scheme}://${u.username}:**@${u.hostname}:${String(u.port)}/${u.vhost}`;
}

function isUrlList(u: AmqpBrokerUrl | readonly AmqpBrokerUrl[]): u is readonly AmqpBrokerUrl[] {
  return Array.isArray(u);
}
