import type { ChannelModel, ConsumeMessage } from 'amqplib';
import { BrokerError } from '../../errors/errors';
import type { ConsumeOptions, Consumer, DeliveryHandler } from '../broker';
import type { Declarations } from './declarations';
import { AmqpDelivery, rejectUndecodable, type Session } from './delivery';
import { ChannelError } from './errors';
import { toBrokerError } from './errors-map';

export interface ConsumerDeps {
  /** The connection now up, if any. */
  current(): ChannelModel | undefined;
  declarations: Declarations;
  /** Consumer left the broker's set (cancelled). */
  forget(c: AmqpConsumer): void;
  /** Log a warning the user must see (undecodable message rejected). */
  warn(msg: string): void;
}

/** A field-table string (amqplib gives `longstr` values as strings or bytes). */
function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  return undefined;
}

/** `basic.qos` `global` for `mode` on the server `model` is connected to. */
export function qosGlobal(
  mode: ConsumeOptions['prefetchGlobal'],
  serverProperties: Readonly<Record<string, unknown>> | undefined,
): boolean {
  if (mode === undefined) return true;
  if (typeof mode === 'boolean') return mode;
  // kombu 5.7 `qos_semantics_matches_spec`: the spec's per-consumer meaning holds on RabbitMQ
  // < 3.3 and again from 4.0 (global QoS removed for classic queues); global is its negation.
  if (text(serverProperties?.product) !== 'RabbitMQ') return false;
  const version = text(serverProperties?.version);
  if (version === undefined || version === '') return false;
  const [maj = 0, min = 0] = version.split('.').map((x) => parseInt(x, 10) || 0);
  const matchesSpec = maj < 3 || (maj === 3 && min < 3) || maj >= 4;
  return !matchesSpec;
}

/** Pause before re-opening a consumer channel the broker closed while the connection lives. */
const CHANNEL_RETRY_MS = 1000;

/** The connection's `connection.start` server properties (amqplib keeps them). */
function serverProps(model: ChannelModel): Readonly<Record<string, unknown>> | undefined {
  const c = (model as unknown as { connection?: { serverProperties?: Record<string, unknown> } })
    .connection;
  return c?.serverProperties;
}

/**
 * One consumer on its own channel, kombu `Consumer` style: `basic_qos` (global as Celery's
 * `QoS.update` on RabbitMQ 3.x, per consumer for quorum queues, see {@link qosGlobal}) and one `basic_consume` per queue, each with its consumer tag.
 *
 * Recovery: when its channel closes (connection loss, a broker channel error such as
 * `consumer_timeout`'s 406, or a broker-side `basic.cancel` after which we close the channel so
 * RabbitMQ requeues what it had handed out) every live delivery becomes void, `onReset(reason)`
 * runs, the session number bumps, and on the next channel every consumed queue is declared again
 * from its remembered declaration (auto-delete pidbox/reply queues included) before
 * `basic_consume` (kombu `Consumer.revive` → `declare()` → `consume()`).
 */
export class AmqpConsumer implements Consumer {
  private sessionNo = 0;
  private session: Session | undefined;
  private model: ChannelModel | undefined;
  private readonly tags = new Map<string, string>();
  private list: string[];
  private cancelled = false;
  private prefetch: number;
  private global = true;
  private lock: Promise<void> = Promise.resolve();
  private closeReason: Error | undefined;
  /** A first start that fails is the caller's error, not something to recover from. */
  private started = false;

  constructor(
    queues: readonly string[],
    private readonly handler: DeliveryHandler,
    private readonly opts: ConsumeOptions,
    private readonly deps: ConsumerDeps,
  ) {
    this.list = [...queues];
    this.prefetch = opts.prefetch ?? 0;
  }

  get queues(): readonly string[] {
    return this.list;
  }

  /** (Re)start on `model` unless already running on it; serialized. */
  start(model: ChannelModel): Promise<void> {
    const run = this.lock.then(() => this.doStart(model));
    this.lock = run.catch(() => undefined);
    return run;
  }

  private async doStart(model: ChannelModel): Promise<void> {
    if (this.cancelled || (this.session && this.model === model)) return;
    if (this.deps.current() !== model) return;
    const ch = await model.createChannel();
    const number = ++this.sessionNo;
    const session: Session = {
      number,
      channel: ch,
      noAck: this.opts.noAck ?? false,
      live: new Set(),
      drained: () => {
        if (this.cancelled && this.session === session) void this.closeChannel();
      },
    };
    ch.on('error', (e: Error) => {
      this.closeReason ??= toBrokerError(e, 'consumer channel');
    });
    ch.on('close', () => {
      // amqplib closes every channel just before it emits the connection's 'close': wait a turn
      // so that a connection loss is handled once, as one (by the broker's `lost` hook).
      setImmediate(() => {
        this.onChannelClosed(session, model);
      });
    });
    this.session = session;
    this.model = model;
    this.tags.clear();
    this.global = qosGlobal(this.opts.prefetchGlobal, serverProps(model));
    if (this.prefetch > 0) await ch.prefetch(this.prefetch, this.global);
    for (const queue of this.list) await this.consumeOne(session, queue, number > 1);
    this.started = true;
  }

  private async consumeOne(s: Session, queue: string, redeclare: boolean): Promise<void> {
    const spec = this.deps.declarations.specFor(queue);
    if (spec) await this.deps.declarations.declareQueue(spec, redeclare);
    const { consumerTag } = await s.channel.consume(
      queue,
      (msg) => {
        this.onMessage(s, queue, msg);
      },
      { noAck: s.noAck },
    );
    this.tags.set(queue, consumerTag);
  }

  private onMessage(s: Session, queue: string, msg: ConsumeMessage | null): void {
    if (msg === null) {
      // basic.cancel from the broker (queue deleted, HA failover): close the channel so that
      // RabbitMQ requeues what it delivered, then recover like any other channel loss.
      this.closeReason = new ChannelError(`consumer of ${queue} was cancelled by the broker`);
      if (this.session === s) void s.channel.close().catch(() => undefined);
      return;
    }
    if (this.session !== s) return;
    let d: AmqpDelivery;
    try {
      d = new AmqpDelivery(s, queue, msg);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      rejectUndecodable(s.channel, msg, s.noAck);
      const line =
        `Rejected undecodable message from queue ${queue} ` +
        `(delivery tag ${String(msg.fields.deliveryTag)}) to the dead-letter path: ${reason}`;
      this.deps.warn(line);
      this.opts.onError?.(new BrokerError(line, { cause: e }));
      return;
    }
    Promise.resolve()
      .then(() => this.handler(d))
      .catch((e: unknown) => this.opts.onError?.(e instanceof Error ? e : new Error(String(e))));
  }

  private onChannelClosed(s: Session, model: ChannelModel): void {
    if (this.session !== s) return;
    const reason = this.closeReason ?? new ChannelError('consumer channel closed');
    this.closeReason = undefined;
    this.reset(reason);
    if (this.cancelled || !this.started) return;
    if (this.deps.current() === model) {
      this.opts.onError?.(toBrokerError(reason, 'consumer channel closed by the broker'));
      void this.restartLater(model);
    }
    // Otherwise the connection is gone too: the broker restarts us once it is back.
  }

  private async restartLater(model: ChannelModel): Promise<void> {
    while (!this.cancelled && this.deps.current() === model && !this.session) {
      try {
        await this.start(model);
        return;
      } catch (e) {
        this.opts.onError?.(toBrokerError(e, 'restarting consumer'));
        await new Promise((r) => setTimeout(r, CHANNEL_RETRY_MS));
      }
    }
  }

  /** The broker took back every unacked delivery: void them, tell the owner, new session next. */
  reset(reason: Error): void {
    const s = this.session;
    if (!s) return;
    this.session = undefined;
    this.model = undefined;
    this.tags.clear();
    for (const d of s.live) d.markVoid();
    s.live.clear();
    if (!s.noAck) this.opts.onReset?.(reason);
  }

  async setPrefetch(prefetch: number): Promise<void> {
    this.prefetch = prefetch;
    // Per-consumer QoS (`global=false`) only reaches consumers started after it: Celery sends
    // it anyway and logs "Prefetch count is now static" (`celery/worker/consumer/tasks.py`).
    await this.session?.channel.prefetch(prefetch, this.global);
  }

  /** `add_consumer`: one more `basic_consume` on the same channel; held deliveries untouched. */
  async addQueue(queue: string): Promise<void> {
    if (this.list.includes(queue)) return;
    this.list = [...this.list, queue];
    const s = this.session;
    if (s) await this.consumeOne(s, queue, false);
  }

  /** `cancel_consumer`: `basic_cancel` of that queue's consumer tag only. */
  async cancelQueue(queue: string): Promise<void> {
    this.list = this.list.filter((q) => q !== queue);
    const tag = this.tags.get(queue);
    this.tags.delete(queue);
    const s = this.session;
    if (s && tag !== undefined) await s.channel.cancel(tag).catch(() => undefined);
  }

  /**
   * Stop receiving (`basic_cancel` of every tag). The channel stays open while deliveries are
   * held so that their acks still count (closing it would requeue them and run them twice); it
   * closes when the last one is settled.
   */
  async cancel(): Promise<void> {
    if (this.cancelled) return;
    this.cancelled = true;
    this.deps.forget(this);
    const s = this.session;
    if (!s) return;
    for (const tag of this.tags.values()) await s.channel.cancel(tag).catch(() => undefined);
    this.tags.clear();
    if (s.live.size === 0) await this.closeChannel();
  }

  private async closeChannel(): Promise<void> {
    const s = this.session;
    if (!s) return;
    this.session = undefined;
    await s.channel.close().catch(() => undefined);
  }
}
