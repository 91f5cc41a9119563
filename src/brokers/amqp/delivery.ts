import type { Channel, ConsumeMessage } from 'amqplib';
import { BrokerError } from '../../errors/errors';
import type { Delivery } from '../broker';
import { toBrokerError } from './errors-map';
import { fromAmqpMessage } from './properties';

/** Bookkeeping of one consumer session (one channel incarnation). */
export interface Session {
  readonly number: number;
  readonly channel: Channel;
  readonly noAck: boolean;
  /** Deliveries handed out and not yet settled; emptied (all voided) on reset. */
  readonly live: Set<AmqpDelivery>;
  /** Called when `live` becomes empty (lets a cancelled consumer close its channel). */
  drained(): void;
}

/**
 * One AMQP delivery. Its ack/reject go to the channel that delivered it, by delivery tag. Once
 * the broker took it back (the channel or connection closed: RabbitMQ requeues every unacked
 * message of a closed channel), it is *void*: ack/reject resolve as no-ops, never throw
 * 'Channel closed', because the broker will deliver it again in a new session.
 */
export class AmqpDelivery implements Delivery {
  readonly message: Delivery['message'];
  readonly deliveryInfo: Delivery['deliveryInfo'];
  readonly deliveryTag: number;
  readonly redelivered: boolean;
  readonly session: number;
  private voided = false;
  private settled: boolean;

  constructor(
    private readonly s: Session,
    readonly queue: string,
    private readonly msg: ConsumeMessage,
  ) {
    const { fields } = msg;
    // Throws (FrameSyntaxError …) for a header table that could not be decoded: see consumer.
    this.message = fromAmqpMessage(new Uint8Array(msg.content), msg.properties);
    this.deliveryInfo = {
      exchange: fields.exchange,
      routing_key: fields.routingKey,
      redelivered: fields.redelivered,
      ...(typeof msg.properties.priority === 'number' ? { priority: msg.properties.priority } : {}),
    };
    this.deliveryTag = fields.deliveryTag;
    this.redelivered = fields.redelivered;
    this.session = s.number;
    this.settled = s.noAck;
    if (!s.noAck) s.live.add(this);
  }

  get isVoid(): boolean {
    return this.voided;
  }

  /** The broker took it back (called for every live delivery on reset). */
  markVoid(): void {
    this.voided = true;
  }

  ack(): Promise<void> {
    return this.settle((ch) => {
      ch.ack(this.msg);
    });
  }

  reject(requeue: boolean): Promise<void> {
    return this.settle((ch) => {
      ch.reject(this.msg, requeue);
    });
  }

  private settle(fn: (ch: Channel) => void): Promise<void> {
    if (this.s.noAck || this.voided) return Promise.resolve();
    if (this.settled) return Promise.reject(new BrokerError('delivery already acknowledged'));
    this.settled = true;
    this.s.live.delete(this);
    try {
      fn(this.s.channel);
    } catch (e) {
      // amqplib throws IllegalOperationError('Channel closed') when the close event has not
      // reached us yet: the broker has taken the message back all the same.
      if (e instanceof Error && /closed/i.test(e.message)) {
        this.voided = true;
        return Promise.resolve();
      }
      return Promise.reject(toBrokerError(e, 'ack/reject'));
    } finally {
      if (this.s.live.size === 0) this.s.drained();
    }
    return Promise.resolve();
  }
}

/**
 * A delivery we cannot turn into a message (an undecodable header table): rejected without
 * requeue, by its delivery tag, so RabbitMQ dead-letters it (the queue's DLX, if configured)
 * instead of redelivering it forever; the next message runs.
 */
export function rejectUndecodable(ch: Channel, msg: ConsumeMessage, noAck: boolean): void {
  if (noAck) return;
  try {
    ch.reject(msg, false);
  } catch {
    // Channel already closed: RabbitMQ requeues it, and we reject it again next time.
  }
}
