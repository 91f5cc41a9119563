import type { DeliveryInfo, RawMessage } from '../../protocol/raw-message';
import type { ConsumeOptions, Consumer, Delivery, DeliveryHandler } from '../broker';

/** A message as a memory queue holds it (kombu's `message.serializable()` + `redelivered`). */
export interface Stored {
  readonly message: RawMessage;
  readonly deliveryInfo: DeliveryInfo;
  readonly redelivered: boolean;
}

/** `ConsumeOptions` with the issue-8 member `onReset` (declared here until broker.ts has it). */
export interface MemoryConsumeOptions extends ConsumeOptions {
  onReset?: (reason: Error) => void;
}

/** What a consumer needs from its broker. */
export interface ConsumerHost {
  restore(stored: Stored): void;
  pump(): void;
}

class MemoryDelivery implements Delivery {
  private settled = false;
  voided = false;

  constructor(
    private readonly owner: MemoryConsumer,
    readonly stored: Stored,
    readonly queue: string,
    readonly deliveryTag: number,
    readonly session: number,
    private readonly noAck: boolean,
  ) {}

  get message(): RawMessage {
    return this.stored.message;
  }

  get deliveryInfo(): DeliveryInfo {
    return { ...this.stored.deliveryInfo, redelivered: this.stored.redelivered };
  }

  get redelivered(): boolean {
    return this.stored.redelivered;
  }

  get isVoid(): boolean {
    return this.voided;
  }

  /** `QoS.ack`: forget the message. A second settle, or one after a reset, is a no-op. */
  ack(): Promise<void> {
    if (!this.noAck && !this.settled && !this.voided) {
      this.settled = true;
      this.owner.settle(this, false);
    }
    return Promise.resolve();
  }

  /** `QoS.reject`: with `requeue`, back to the original destination (`_restore_at_beginning`). */
  reject(requeue: boolean): Promise<void> {
    if (!this.noAck && !this.settled && !this.voided) {
      this.settled = true;
      this.owner.settle(this, requeue);
    }
    return Promise.resolve();
  }
}

/**
 * One `basic_consume` on a memory channel: its own delivery tags, prefetch window and unacked
 * set (`kombu/transport/virtual/base.py`, `QoS`). Cancelling restores the unacked messages, as
 * closing a kombu channel does (`QoS.restore_unacked_once`).
 */
export class MemoryConsumer implements Consumer {
  private readonly active: string[];
  private readonly unacked = new Map<number, MemoryDelivery>();
  private tag = 0;
  private prefetch: number;
  private sessionNo = 1;
  private cancelled = false;

  constructor(
    private readonly host: ConsumerHost,
    queues: readonly string[],
    private readonly handler: DeliveryHandler,
    private readonly opts: MemoryConsumeOptions,
    private readonly onCancelled: () => void,
  ) {
    this.active = [...new Set(queues)];
    this.prefetch = opts.prefetch ?? 0;
  }

  get queues(): readonly string[] {
    return [...this.active];
  }

  /** The current session (bumps on every {@link reset}). */
  get session(): number {
    return this.sessionNo;
  }

  wants(queue: string): boolean {
    return !this.cancelled && this.active.includes(queue);
  }

  /** `QoS.can_consume`: prefetch 0 is unlimited. */
  hasRoom(): boolean {
    return this.prefetch === 0 || this.unacked.size < this.prefetch;
  }

  unackedCount(): number {
    return this.unacked.size;
  }

  deliver(queue: string, stored: Stored): void {
    const noAck = this.opts.noAck === true;
    const d = new MemoryDelivery(this, stored, queue, ++this.tag, this.sessionNo, noAck);
    if (!noAck) this.unacked.set(d.deliveryTag, d);
    void Promise.resolve()
      .then(() => this.handler(d))
      .catch((e: unknown) => {
        this.opts.onError?.(e instanceof Error ? e : new Error(String(e)));
      });
  }

  settle(d: MemoryDelivery, requeue: boolean): void {
    if (this.unacked.get(d.deliveryTag) !== d) return;
    this.unacked.delete(d.deliveryTag);
    if (requeue) this.host.restore(d.stored);
    else this.host.pump();
  }

  private restoreUnacked(): void {
    const held = [...this.unacked.values()];
    this.unacked.clear();
    for (const d of held) {
      d.voided = true;
      this.host.restore(d.stored);
    }
  }

  /** Connection lost: take back every unacked delivery, new session, then `onReset`. */
  reset(reason: Error): void {
    if (this.cancelled) return;
    // New session first: what is restored now may be redelivered to this consumer at once; the
    // handler only sees it on a later microtask, after `onReset`.
    this.sessionNo++;
    this.restoreUnacked();
    this.opts.onReset?.(reason);
  }

  setPrefetch(prefetch: number): Promise<void> {
    this.prefetch = prefetch;
    this.host.pump();
    return Promise.resolve();
  }

  addQueue(queue: string): Promise<void> {
    if (!this.active.includes(queue)) this.active.push(queue);
    this.host.pump();
    return Promise.resolve();
  }

  /** Stop consuming one queue; deliveries already handed out stay valid. */
  cancelQueue(queue: string): Promise<void> {
    const i = this.active.indexOf(queue);
    if (i >= 0) this.active.splice(i, 1);
    return Promise.resolve();
  }

  cancel(): Promise<void> {
    if (!this.cancelled) {
      this.cancelled = true;
      this.onCancelled();
      this.restoreUnacked();
    }
    return Promise.resolve();
  }
}
