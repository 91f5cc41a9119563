import type { Broker, Consumer, QueueSpec } from '../brokers/broker';
import { isFanoutBroker } from '../brokers/fanout';
import { LamportClock } from '../events/clock';
import { controlRequestMessage, replyExchange, replyQueue } from '../protocol/control';
import type { JsonDialect } from '../serialization/python-json';
import { isPyDict, type PyValue } from '../serialization/py-values';
import { loads } from '../serialization/registry';

/** One node's reply, as kombu collects them: `{hostname: reply}`. */
export type NodeReply = Record<string, PyValue>;

/** Options of a broadcast (`Control.broadcast`, `Mailbox._broadcast`). */
export interface BroadcastOptions {
  /** Worker node names; default all. */
  destination?: readonly string[] | null;
  /** Wait for replies (default false). */
  reply?: boolean;
  /** Seconds to wait for the next reply (default 1.0, as `drain_events(timeout)`). */
  timeout?: number;
  /** Stop after this many replies (default: the number of destinations, else unlimited). */
  limit?: number;
  /** Called with each reply as it arrives. */
  callback?: (reply: NodeReply) => void;
  /** kombu `pattern`/`matcher` (`glob` or `pcre`) selecting nodes by name. */
  pattern?: string;
  matcher?: 'glob' | 'pcre';
}

/** What the mailbox client is wired to. */
export interface MailboxClientDeps {
  broker(): Promise<Broker>;
  /** The client's oid (reply routing key, `Mailbox.oid`). */
  oid: string;
  /** `control_exchange` (default `celery`). */
  controlExchange: string;
  /** `task_serializer`: the mailbox serializer (`Control.__init__`). */
  serializer: string;
  /** `accept_content` for replies. */
  accept: readonly string[];
  jsonDialect: JsonDialect;
  /** `control_queue_exclusive` (Celery 5.7 default true; false before). */
  exclusive: boolean;
  now(): number;
  uuid(): string;
}

interface Waiter {
  replies: NodeReply[];
  onReply(): void;
  callback?: (r: NodeReply) => void;
}

/**
 * The client half of kombu's pidbox `Mailbox` (`kombu/pidbox.py`, `_broadcast`, `_publish`,
 * `_collect`): commands go to the fanout `<ns>.pidbox` exchange with headers `{clock,
 * expires}`; replies come back on `<oid>.reply.<ns>.pidbox`, bound to the direct
 * `reply.<ns>.pidbox` exchange by the oid, and are matched to the request by their `ticket`
 * header. Collection ends at `limit` replies or when no reply arrived for `timeout` seconds.
 */
export class MailboxClient {
  readonly clock = new LamportClock();
  private consumer: Promise<Consumer> | undefined;
  private readonly waiting = new Map<string, Waiter>();

  constructor(private readonly d: MailboxClientDeps) {}

  /** `Mailbox.reply_queue` (`get_reply_queue`). */
  replyQueueSpec(): QueueSpec {
    const ns = this.d.controlExchange;
    return {
      name: replyQueue(this.d.oid, ns),
      exchange: replyExchange(ns),
      exchangeType: 'direct',
      routingKey: this.d.oid,
      durable: false,
      exchangeDurable: false,
      autoDelete: true,
      exclusive: this.d.exclusive,
      // control_queue_expires 10 s, control_queue_ttl 300 s (`Control.__init__`).
      arguments: { 'x-expires': 10000, 'x-message-ttl': 300000 },
    };
  }

  private ensureConsumer(): Promise<Consumer> {
    this.consumer ??= (async () => {
      const b = await this.d.broker();
      const spec = this.replyQueueSpec();
      await b.declareQueue(spec);
      return b.consume(
        [spec.name],
        async (delivery) => {
          await delivery.ack();
          const m = delivery.message;
          this.clock.adjust(m.headers.clock ?? 0);
          let body: PyValue;
          try {
            body = loads(m.body, m.contentType, m.contentEncoding, { accept: this.d.accept });
          } catch {
            return;
          }
          const ticket = m.headers.ticket;
          const w = typeof ticket === 'string' ? this.waiting.get(ticket) : undefined;
          if (!w || !isPyDict(body)) return;
          w.replies.push(body);
          w.callback?.(body);
          w.onReply();
        },
        { noAck: true },
      );
    })().catch((e: unknown) => {
      this.consumer = undefined;
      throw e;
    });
    return this.consumer;
  }

  /** `Mailbox._broadcast`: publish; with `reply`, collect the replies. */
  async broadcast(
    command: string,
    args: Readonly<Record<string, PyValue>> = {},
    o: BroadcastOptions = {},
  ): Promise<NodeReply[] | undefined> {
    const timeout = o.timeout ?? 1.0;
    const destination = o.destination ?? null;
    const limit = o.limit ?? (destination && destination.length > 0 ? destination.length : 0);
    const ticket = o.reply === true ? this.d.uuid() : null;
    let w: Waiter | undefined;
    let wake: () => void = () => undefined;
    if (ticket !== null) {
      await this.ensureConsumer();
      w = {
        replies: [],
        onReply: () => {
          wake();
        },
        ...(o.callback ? { callback: o.callback } : {}),
      };
      this.waiting.set(ticket, w);
    }
    try {
      const pub = controlRequestMessage(
        {
          method: command,
          arguments: args,
          destination,
          pattern: o.pattern ?? null,
          matcher: o.matcher ?? null,
          ticket,
          oid: this.d.oid,
          controlExchange: this.d.controlExchange,
        },
        {
          clock: this.clock.forward(),
          now: this.d.now() / 1000,
          timeout,
          serializer: this.d.serializer,
          jsonDialect: this.d.jsonDialect,
        },
      );
      const b = await this.d.broker();
      // kombu `declare=[exchange]`: the fanout `<ns>.pidbox` (on Redis this is what makes the
      // publish a PUBLISH to the subscribers rather than a push to bound lists).
      // The broker caches it per connection, so a new connection (failover) re-declares it.
      if (isFanoutBroker(b)) {
        await b.declareExchange(pub.exchange, 'fanout', { durable: false, autoDelete: false });
      }
      await b.publish(pub.message, { exchange: pub.exchange, routingKey: pub.routingKey });
      if (!w) return undefined;
      const waiter = w;
      await new Promise<void>((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        const arm = (): void => {
          clearTimeout(timer);
          timer = setTimeout(resolve, timeout * 1000);
        };
        wake = () => {
          if (limit > 0 && waiter.replies.length >= limit) {
            clearTimeout(timer);
            resolve();
          } else arm();
        };
        arm();
      });
      return waiter.replies;
    } finally {
      if (ticket !== null) this.waiting.delete(ticket);
    }
  }

  /** Stop consuming the reply queue (it expires on the broker after 10 s). */
  async close(): Promise<void> {
    const c = this.consumer;
    this.consumer = undefined;
    if (c) await (await c.catch(() => undefined))?.cancel();
  }
}

/** `flatten_reply` (`celery/app/control.py`): `[{a: r1}, {b: r2}]` → `{a: r1, b: r2}`. */
export function flattenReply(replies: readonly NodeReply[]): Record<string, PyValue> {
  const out: Record<string, PyValue> = {};
  for (const r of replies) Object.assign(out, r);
  return out;
}
