import { BrokerError } from '../../errors/errors';
import type { DeliveryInfo, RawMessage } from '../../protocol/raw-message';
import type {
  Broker,
  BrokerCapabilities,
  Consumer,
  DeliveryHandler,
  ExchangeType,
  PublishItem,
  PublishOptions,
  PublishTarget,
  QueueSpec,
} from '../broker';
import type { ExchangeOptions, FanoutBroker, FanoutMessage } from '../fanout';
import { route, type MemoryExchange } from './exchange';
import { MemoryConsumer, type MemoryConsumeOptions, type Stored } from './memory-consumer';

/** Status events, the broker contract's `BrokerStatus` (issue 8). */
export type MemoryBrokerStatus =
  | { readonly state: 'connecting'; readonly target: string; readonly attempt: number }
  | { readonly state: 'connected'; readonly target: string }
  | { readonly state: 'lost'; readonly target: string; readonly reason: Error }
  | {
      readonly state: 'reconnecting';
      readonly target: string;
      readonly attempt: number;
      readonly delayMs: number;
      readonly reason: Error;
    }
  | { readonly state: 'gave-up'; readonly target: string; readonly reason: Error };

/** One queue: FIFO of ready messages (`kombu/transport/memory.py`, `Channel._queue_for`). */
interface MemoryQueue {
  readonly name: string;
  readonly messages: Stored[];
  /** Round-robin pointer over the consumers of this queue. */
  next: number;
}

/**
 * The "server" side: queues, exchanges and consumers (`kombu/transport/memory.py`,
 * `Transport.state`, one `BrokerState` shared by every connection of the process).
 */
export class MemoryBrokerState {
  readonly queues = new Map<string, MemoryQueue>();
  readonly exchanges = new Map<string, MemoryExchange>();
  readonly consumers = new Set<MemoryConsumer>();

  /** Forget every queue, exchange and message (between tests); consumers stay attached. */
  clear(): void {
    this.queues.clear();
    this.exchanges.clear();
  }
}

const states = new Map<string, MemoryBrokerState>();

/** The process-wide state behind `memory://` URLs: every broker built from the URL shares it. */
export function sharedBrokerState(url = 'memory://'): MemoryBrokerState {
  let s = states.get(url);
  if (!s) states.set(url, (s = new MemoryBrokerState()));
  return s;
}

/** Options of {@link MemoryBroker}. */
export interface MemoryBrokerOptions {
  /** The URL as configured (`memory://`, `memory://localhost/`); shown in status events. */
  url?: string;
  /** Share queues with other brokers (default: a private state). */
  state?: MemoryBrokerState;
}

/**
 * kombu's `memory://` transport in process (`kombu/transport/memory.py` on the virtual transport,
 * `kombu/transport/virtual/base.py`): queues are FIFOs created on first use, exchanges route by
 * their type (direct, topic, fanout, headers; the default exchange `''` routes to the queue named
 * by the routing key), each consumer has its own prefetch window (`QoS.can_consume`), `ack`
 * forgets, `reject(requeue)` and consumer cancellation give messages back to their original
 * destination with `redelivered` set (`Channel._restore`). One broker object is one "server":
 * share it between an app and a worker to connect them. Priorities are not honoured (FIFO, as
 * kombu's memory channel).
 */
export class MemoryBroker implements Broker, FanoutBroker {
  readonly capabilities: BrokerCapabilities = {
    publisherConfirms: false,
    priorityOrder: 'higher-first',
    messageTtl: false,
    exchangeTypes: ['direct', 'topic', 'fanout', 'headers'],
  };
  readonly target: string;
  readonly state: MemoryBrokerState;
  private readonly queues: Map<string, MemoryQueue>;
  private readonly exchanges: Map<string, MemoryExchange>;
  /** Consumers of every broker on the state (deliveries go to any of them). */
  private readonly consumers: Set<MemoryConsumer>;
  /** Consumers started through this broker (closed with it). */
  private readonly own = new Set<MemoryConsumer>();
  private readonly listeners = new Set<(s: MemoryBrokerStatus) => void>();
  private connected = false;
  private closed = false;
  /** Messages published to an exchange that routed them nowhere (dropped, as AMQP does). */
  unroutable = 0;

  constructor(opts: MemoryBrokerOptions = {}) {
    this.target = opts.url ?? 'memory://';
    this.state = opts.state ?? new MemoryBrokerState();
    this.queues = this.state.queues;
    this.exchanges = this.state.exchanges;
    this.consumers = this.state.consumers;
  }

  onStatus(listener: (s: MemoryBrokerStatus) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private emit(s: MemoryBrokerStatus): void {
    for (const l of [...this.listeners]) l(s);
  }

  private live(): void {
    if (this.closed) throw new BrokerError('memory broker is closed');
  }

  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new BrokerError('memory broker is closed'));
    if (!this.connected) {
      this.connected = true;
      this.emit({ state: 'connecting', target: this.target, attempt: 1 });
      this.emit({ state: 'connected', target: this.target });
    }
    return Promise.resolve();
  }

  /** Close: every consumer gives its unacked deliveries back (kept for a later broker user). */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const c of [...this.own]) await c.cancel();
    this.closed = true;
  }

  private queue(name: string): MemoryQueue {
    let q = this.queues.get(name);
    if (!q) this.queues.set(name, (q = { name, messages: [], next: 0 }));
    return q;
  }

  declareExchange(name: string, type: ExchangeType, _opts?: ExchangeOptions): Promise<void> {
    if (name !== '' && !this.exchanges.has(name)) {
      this.exchanges.set(name, { name, type, bindings: [] });
    }
    return Promise.resolve();
  }

  /** `maybe_declare(queue)`: the queue, its exchange, and the binding (kept once). */
  async declareQueue(spec: QueueSpec): Promise<void> {
    this.live();
    this.queue(spec.name);
    const exName = spec.exchange ?? spec.name;
    if (exName === '') return;
    await this.declareExchange(exName, spec.exchangeType ?? 'direct');
    const ex = this.exchanges.get(exName);
    const rk = spec.routingKey ?? spec.name;
    if (ex && !ex.bindings.some((b) => b.queue === spec.name && b.routingKey === rk)) {
      ex.bindings.push({ routingKey: rk, queue: spec.name, arguments: spec.arguments ?? {} });
    }
  }

  /** `Channel._lookup`: anonymous exchange → the queue named by the key (created on demand). */
  private lookup(exchange: string, routingKey: string, message: RawMessage): string[] {
    if (exchange === '') return routingKey === '' ? [] : [routingKey];
    const ex = this.exchanges.get(exchange);
    return ex ? route(ex, routingKey, message.headers) : [];
  }

  private put(queueName: string, stored: Stored): void {
    this.queue(queueName).messages.push(stored);
  }

  async publish(message: RawMessage, target: PublishTarget, _opts?: PublishOptions): Promise<void> {
    this.live();
    if (target.queue) await this.declareQueue(target.queue);
    const deliveryInfo: DeliveryInfo = {
      exchange: target.exchange,
      routing_key: target.routingKey,
      ...(typeof message.properties.priority === 'number'
        ? { priority: message.properties.priority }
        : {}),
    };
    const dest = this.lookup(target.exchange, target.routingKey, message);
    if (dest.length === 0) this.unroutable++;
    for (const q of dest) this.put(q, { message, deliveryInfo, redelivered: false });
    this.pump();
  }

  async publishMany(items: readonly PublishItem[]): Promise<void> {
    for (const i of items) await this.publish(i.message, i.target, i.opts);
  }

  /** `Channel._restore`: back to the original destination, `redelivered` set. */
  restore(stored: Stored): void {
    const info = stored.deliveryInfo;
    for (const q of this.lookup(info.exchange, info.routing_key, stored.message)) {
      this.put(q, { ...stored, redelivered: true });
    }
    this.pump();
  }

  consume(
    queues: readonly string[],
    handler: DeliveryHandler,
    opts: MemoryConsumeOptions = {},
  ): Promise<MemoryConsumer> {
    this.live();
    for (const q of queues) this.queue(q);
    const c = new MemoryConsumer(this, queues, handler, opts, () => {
      this.consumers.delete(c);
      this.own.delete(c);
    });
    this.consumers.add(c);
    this.own.add(c);
    this.pump();
    return Promise.resolve(c);
  }

  /**
   * Hand ready messages to consumers with room in their prefetch window, round-robin per queue.
   * Deliveries reach handlers on a later microtask, never inside `publish`.
   */
  pump(): void {
    let moved = true;
    while (moved) {
      moved = false;
      for (const q of this.queues.values()) {
        if (q.messages.length === 0) continue;
        const takers = [...this.consumers].filter((c) => c.wants(q.name));
        if (takers.length === 0) continue;
        for (let i = 0; i < takers.length && q.messages.length > 0; i++) {
          const c = takers[(q.next + i) % takers.length];
          if (!c?.hasRoom()) continue;
          const m = q.messages.shift();
          if (m) c.deliver(q.name, m);
          q.next = (q.next + i + 1) % takers.length;
          moved = true;
          break;
        }
      }
    }
  }

  /**
   * Simulate a lost connection: every consumer's unacked deliveries go back to their queues
   * (void from now on), `onReset` is called, and the consumers resume on a new session.
   */
  resetConnection(reason: Error = new BrokerError('connection lost (simulated)')): void {
    this.emit({ state: 'lost', target: this.target, reason });
    for (const c of this.own) c.reset(reason);
    this.emit({ state: 'connected', target: this.target });
    this.pump();
  }

  /** A fanout-style no-ack subscription (pidbox, events): a private queue bound to `spec`. */
  async subscribeFanout(
    spec: QueueSpec,
    handler: (m: FanoutMessage) => void,
    onError?: (err: Error) => void,
  ): Promise<Consumer> {
    await this.declareQueue(spec);
    return this.consume(
      [spec.name],
      (d) => {
        handler({ message: d.message, deliveryInfo: d.deliveryInfo });
      },
      { noAck: true, ...(onError ? { onError } : {}) },
    );
  }

  /** Ready (not yet delivered) messages of a queue. */
  size(queue: string): number {
    return this.queues.get(queue)?.messages.length ?? 0;
  }

  /** Delivered, not yet acknowledged messages over all consumers. */
  unackedCount(): number {
    let n = 0;
    for (const c of this.consumers) n += c.unackedCount();
    return n;
  }

  /** Every queue's ready messages (`queue_purge` for all); returns how many were dropped. */
  purge(queue?: string): number {
    let n = 0;
    for (const q of this.queues.values()) {
      if (queue !== undefined && q.name !== queue) continue;
      n += q.messages.length;
      q.messages.length = 0;
    }
    return n;
  }

  /** Names of the queues that exist. */
  queueNames(): string[] {
    return [...this.queues.keys()];
  }
}
