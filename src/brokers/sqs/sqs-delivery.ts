import type { DeliveryInfo, RawMessage } from '../../protocol/raw-message';
import type { Delivery } from '../broker';

/** What acks and rejects (the broker: it knows the line's semantics and the clients). */
export interface SqsSettler {
  ack(d: SqsDelivery): Promise<void>;
  reject(d: SqsDelivery, requeue: boolean): Promise<void>;
}

export interface SqsDeliveryInit {
  message: RawMessage;
  deliveryInfo: DeliveryInfo;
  receiptHandle: string;
  redelivered: boolean;
  queue: string;
  queueUrl: string;
  /** `ApproximateReceiveCount` (backoff policies key on it). */
  receiveCount: number;
  settler: SqsSettler;
  onSettled: () => void;
}

/**
 * One received SQS message. The delivery tag is the receipt handle, as kombu sets
 * `properties['delivery_tag'] = message['ReceiptHandle']` (`Channel._envelope_payload`). It never
 * goes void: SQS takes a message back only by its visibility timeout expiring, and deleting with
 * an old receipt handle then is harmless (the message is received again, at least once).
 */
export class SqsDelivery implements Delivery {
  readonly message: RawMessage;
  readonly deliveryInfo: DeliveryInfo;
  readonly deliveryTag: string;
  readonly redelivered: boolean;
  readonly queue: string;
  readonly queueUrl: string;
  readonly receiveCount: number;
  readonly session = 0;
  readonly isVoid = false;
  private settled = false;
  private readonly init: SqsDeliveryInit;

  constructor(init: SqsDeliveryInit) {
    this.init = init;
    this.message = init.message;
    this.deliveryInfo = init.deliveryInfo;
    this.deliveryTag = init.receiptHandle;
    this.redelivered = init.redelivered;
    this.queue = init.queue;
    this.queueUrl = init.queueUrl;
    this.receiveCount = init.receiveCount;
  }

  /** The first settle wins; later calls are no-ops (as kombu's `Message.acknowledged`). */
  private claim(): boolean {
    if (this.settled) return false;
    this.settled = true;
    return true;
  }

  async ack(): Promise<void> {
    if (!this.claim()) return;
    try {
      await this.init.settler.ack(this);
    } finally {
      // kombu 5.7 `basic_ack`: the prefetch slot is released even when DeleteMessage failed.
      this.init.onSettled();
    }
  }

  async reject(requeue: boolean): Promise<void> {
    if (!this.claim()) return;
    try {
      await this.init.settler.reject(this, requeue);
    } finally {
      this.init.onSettled();
    }
  }
}
