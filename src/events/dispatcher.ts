import type { Broker } from '../brokers/broker';
import { isFanoutBroker } from '../brokers/fanout';
import { buildEvent, EVENT_EXCHANGE, eventMessage, eventRoutingKey } from '../protocol/event';
import { getProfile, type CeleryProfile, type CeleryProfileName } from '../protocol/profiles';
import type { JsonDialect } from '../serialization/python-json';
import type { PyValue } from '../serialization/py-values';
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
  /** The Celery line whose bytes we send (`utcoffset` float on 5.7, int before). Default newest. */
  profile?: CeleryProfileName | CeleryProfile;
  /** JSON dialect of the body; default the profile's. */
  jsonDialect?: JsonDialect;
  /** Hours west of UTC at a wall-clock instant (ms); default {@link utcoffsetHours} of the host. */
  utcoffset?: (nowMs: number) => number;
  /** Transport kind: `celeryev` is fanout on Redis and topic on AMQP (`get_exchange`). */
  transport: 'redis' | 'amqp';
  /** Start enabled (worker `-E` / `worker_send_task_events`). */
  enabled?: boolean;
  onError?: (err: Error) => void;
}

/**
 * `celery/utils/time.py`, `utcoffset`: hours *west* of UTC (`time.timezone / 3600`, or
 * `time.altzone` during DST) — `Date.getTimezoneOffset()` has the same sign. Exact here; the
 * profile decides how it travels (true division in 5.7.0, floor division before: `buildEvent`).
 */
export function utcoffsetHours(d: Date): number {
  return d.getTimezoneOffset() / 60;
}

/**
 * `celery/events/dispatcher.py`, `EventDispatcher.publish`. The bytes come from
 * `src/protocol/event.ts` (`buildEvent` + `eventMessage`, tested against Celery's own output);
 * this class only adds the clock, the broker and the enabled switch.
 */
export class EventDispatcher {
  enabled: boolean;
  private readonly exchange: string;
  private readonly profile: CeleryProfile;
  private declared: Promise<void> | undefined;
  sent = 0;

  constructor(private readonly o: EventDispatcherOptions) {
    this.enabled = o.enabled ?? false;
    this.exchange = o.exchange ?? EVENT_EXCHANGE;
    this.profile = getProfile(o.profile);
  }

  /** The event body (`Event(type, **fields)` + the dispatcher's common fields). */
  build(type: string, fields: Readonly<Record<string, PyValue>>): Record<string, PyValue> {
    const nowMs = this.o.now();
    return buildEvent(type, fields, {
      hostname: this.o.hostname,
      pid: this.o.pid,
      clock: this.o.clock.forward(),
      utcoffsetHours: (this.o.utcoffset ?? ((ms) => utcoffsetHours(new Date(ms))))(nowMs),
      timestamp: nowMs / 1000,
      profile: this.profile,
    });
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
      const pub = eventMessage(this.build(type, fields), {
        hostname: this.o.hostname,
        routingKey: eventRoutingKey(type),
        serializer: this.o.serializer ?? 'json',
        jsonDialect: this.o.jsonDialect ?? this.profile.jsonDialect,
        exchange: this.exchange,
      });
      await this.o.broker.publish(pub.message, {
        exchange: pub.exchange,
        routingKey: pub.routingKey,
      });
      this.sent++;
    } catch (e) {
      this.o.onError?.(e instanceof Error ? e : new Error(String(e)));
    }
  }
}
