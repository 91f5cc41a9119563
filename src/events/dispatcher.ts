import type { Broker } from '../brokers/broker';
import { isFanoutBroker } from '../brokers/fanout';
import type { RawMessage } from '../protocol/raw-message';
import { PyFloat, type PyValue } from '../serialization/py-values';
import { dumps } from '../serialization/registry';
import type { LamportClock } from './clock';

/** Options of {@link EventDispatcher}. */
export interface EventDispatcherOptions {
  broker: Broker;
  /** Sender node name (`name@host`). */
  hostname: string;
  /** Main process pid (`os.getpid()`). */
  pid: number;
  clock: LamportClock;
  /** Wall clock in ms. */
  now: () => number;
  /** `event_exchange` (default `celeryev`). */
  exchange?: string;
  /** `event_serializer` (default `json`). */
  serializer?: string;
  /** Transport kind: `celeryev` is fanout on Redis and topic on AMQP (`get_exchange`). */
  transport: 'redis' | 'amqp';
  /** Start enabled (worker `-E` / `worker_send_task_events`). */
  enabled?: boolean;
  onError?: (err: Error) => void;
}

/**
 * `celery/events/utils.py`/`celery/utils/time.py`, `utcoffset`: hours *west* of UTC
 * (`time.timezone // 3600`, or `time.altzone` during DST) — `Date.getTimezoneOffset()` has the
 * same sign; Python floors.
 */
export function utcoffsetHours(d: Date): number {
  return Math.floor(d.getTimezoneOffset() / 60);
}

/**
 * `celery/events/dispatcher.py`, `EventDispatcher.publish`: one event per message, routing key
 * = type with `-` → `.`, headers `{hostname}`, delivery_mode 1, body key order
 * `hostname, utcoffset, pid, clock, <fields>, timestamp, type` (`Event()`).
 */
export class EventDispatcher {
  enabled: boolean;
  private readonly exchange: string;
  private declared: Promise<void> | undefined;
  sent = 0;

  constructor(private readonly o: EventDispatcherOptions) {
    this.enabled = o.enabled ?? false;
    this.exchange = o.exchange ?? 'celeryev';
  }

  /** The event body (`Event(type, **fields)` + the dispatcher's common fields). */
  build(type: string, fields: Readonly<Record<string, PyValue>>): Record<string, PyValue> {
    const nowMs = this.o.now();
    const ts = fields.timestamp ?? new PyFloat(nowMs / 1000);
    const body: Record<string, PyValue> = {
      hostname: this.o.hostname,
      utcoffset: utcoffsetHours(new Date(nowMs)),
      pid: this.o.pid,
      clock: this.o.clock.forward(),
    };
    for (const [k, v] of Object.entries(fields)) if (k !== 'timestamp') body[k] = v;
    body.timestamp = ts;
    body.type = type;
    return body;
  }

  private declare(): Promise<void> {
    const b = this.o.broker;
    this.declared ??= isFanoutBroker(b)
      ? b.declareExchange(this.exchange, this.o.transport === 'redis' ? 'fanout' : 'topic', {
          durable: true,
          autoDelete: false,
        })
      : Promise.resolve();
    return this.declared;
  }

  /** Send one event if enabled; failures are reported, never thrown (events are best-effort). */
  async send(type: string, fields: Readonly<Record<string, PyValue>> = {}): Promise<void> {
    if (!this.enabled) return;
    try {
      await this.declare();
      const body = this.build(type, fields);
      const enc = dumps(body, this.o.serializer ?? 'json');
      const message: RawMessage = {
        body: enc.body,
        contentType: enc.contentType,
        contentEncoding: enc.contentEncoding,
        headers: { hostname: this.o.hostname },
        properties: { delivery_mode: 1, priority: 0 },
      };
      await this.o.broker.publish(message, {
        exchange: this.exchange,
        routingKey: type.replace(/-/g, '.'),
      });
      this.sent++;
    } catch (e) {
      this.o.onError?.(e instanceof Error ? e : new Error(String(e)));
    }
  }
}
