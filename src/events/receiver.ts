import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Broker, Subscription } from '../brokers/broker';
import { isFanoutBroker, type FanoutMessage } from '../brokers/fanout';
import { EVENT_EXCHANGE, parseEventBody } from '../protocol/event';
import { PyFloat, type PyValue } from '../serialization/py-values';
import { loads } from '../serialization/registry';
import { LamportClock } from './clock';
import { EventState, type CeleryEvent } from './state';

/** Options of {@link EventReceiver} (`app.events.Receiver(connection, handlers, routing_key…)`). */
export interface EventReceiverOptions {
  broker: Broker;
  /** `celeryev` is fanout on Redis and topic on AMQP (`celery/events/event.py`, `get_exchange`). */
  transport: 'redis' | 'amqp';
  /** `event_exchange` (default `celeryev`). */
  exchange?: string;
  /** Routing key pattern (default `#`: every event). */
  routingKey?: string;
  /** `event_queue_prefix` (default `celeryev`); the queue is `<prefix>.<node_id>`. */
  queuePrefix?: string;
  nodeId?: string;
  /** `accept_content` (default json). */
  accept?: readonly string[];
  /**
   * `event_queue_exclusive` (Celery 5.7.0 default true, 5.6 false; before 5.6 the queue is
   * never exclusive, `celery/events/receiver.py`, `EventReceiver.__init__`).
   */
  exclusive?: boolean;
  /** Keep Celery's `State` bookkeeping in {@link EventReceiver.state} (default true). */
  state?: boolean;
  /** Wall clock in seconds (default `Date.now()/1000`). */
  now?: () => number;
  /** `utcoffset()` of this host in hours west (default from `Date`). */
  utcoffset?: () => number;
}

/**
 * `celery.events.receiver.EventReceiver` for Node: task and worker events from Python and TS
 * workers, as an EventEmitter (`on('task-succeeded', …)`, `on('*', …)` for all) and as an async
 * iterator (`for await (const e of receiver)`). Each event is localized as Celery's
 * `event_from_message` does (clock adjusted, `timestamp` moved into this host's offset,
 * `local_received` added); `.multi` group flushes are split into their events.
 */
export class EventReceiver extends EventEmitter implements AsyncIterable<CeleryEvent> {
  readonly clock = new LamportClock();
  readonly state: EventState | null;
  private consumer: Subscription | undefined;
  private readonly queue: CeleryEvent[] = [];
  private readonly waiters: ((r: IteratorResult<CeleryEvent>) => void)[] = [];
  private closed = false;

  constructor(private readonly o: EventReceiverOptions) {
    super();
    this.state = o.state === false ? null : new EventState(o.now);
  }

  /** Declare the queue (`<prefix>.<uuid>`, auto-delete, transient, TTL 5 s, expires 60 s; exclusive per `exclusive`) and consume. */
  async start(): Promise<void> {
    const b = this.o.broker;
    if (!isFanoutBroker(b)) throw new Error('broker cannot consume fanout exchanges');
    const exchange = this.o.exchange ?? EVENT_EXCHANGE;
    const type = this.o.transport === 'redis' ? 'fanout' : 'topic';
    await b.declareExchange(exchange, type, { durable: true, autoDelete: false });
    this.consumer = await b.subscribeFanout(
      {
        name: `${this.o.queuePrefix ?? 'celeryev'}.${this.o.nodeId ?? randomUUID()}`,
        exchange,
        exchangeType: type,
        routingKey: this.o.routingKey ?? '#',
        durable: false,
        autoDelete: true,
        exclusive: this.o.exclusive ?? false,
        // event_queue_ttl 5.0 s, event_queue_expires 60.0 s (`celery/app/defaults.py`).
        // kombu's order: `Queue.queue_declare` passes `expires` before `message_ttl` (`kombu/entity.py`).
        arguments: { 'x-expires': 60000, 'x-message-ttl': 5000 },
      },
      (m) => {
        this.onMessage(m);
      },
      (e) => this.emit('error', e),
    );
  }

  private onMessage(m: FanoutMessage): void {
    let body: PyValue;
    try {
      const raw = m.message;
      body = loads(raw.body, raw.contentType, raw.contentEncoding, {
        accept: this.o.accept ?? ['json'],
      });
      for (const p of parseEventBody(body)) this.dispatch(this.fromMessage({ ...p.fields }));
    } catch (e) {
      this.emit('error', e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** `EventReceiver.event_from_message` (localize=True). */
  private fromMessage(body: Record<string, PyValue>): CeleryEvent {
    const type = typeof body.type === 'string' ? body.type : '';
    if (type === 'task-sent') {
      // CLIENT_CLOCK_SKEW = -1: a client's task-sent is ordered just before our clock.
      body.clock = (this.clock.value || 1) - 1;
      this.clock.adjust(body.clock);
    } else if (body.clock === undefined) body.clock = this.clock.forward();
    else this.clock.adjust(body.clock);
    const ts = body.timestamp;
    const off = body.utcoffset;
    const tsn = ts instanceof PyFloat ? ts.value : typeof ts === 'number' ? ts : null;
    const offn = off instanceof PyFloat ? off.value : typeof off === 'number' ? off : null;
    if (tsn !== null && offn !== null) {
      const here = this.o.utcoffset?.() ?? new Date().getTimezoneOffset() / 60;
      body.timestamp = tsn - (offn - here) * 3600;
    }
    body.local_received = this.o.now?.() ?? Date.now() / 1000;
    return body as CeleryEvent;
  }

  private dispatch(e: CeleryEvent): void {
    this.state?.event(e);
    this.emit(e.type, e);
    this.emit('*', e);
    const w = this.waiters.shift();
    if (w) w({ value: e, done: false });
    else this.queue.push(e);
  }

  [Symbol.asyncIterator](): AsyncIterator<CeleryEvent> {
    return {
      next: () => {
        const e = this.queue.shift();
        if (e) return Promise.resolve({ value: e, done: false });
        if (this.closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.waiters.push(resolve));
      },
      return: async () => {
        await this.close();
        return { value: undefined, done: true };
      },
    };
  }

  /** Stop consuming; pending iterators end. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w({ value: undefined, done: true });
    const c = this.consumer;
    this.consumer = undefined;
    await c?.cancel();
  }
}
