import type { Broker } from '../brokers/broker';
import { isFanoutBroker } from '../brokers/fanout';
import {
  buildEvent,
  EVENT_EXCHANGE,
  eventMessage,
  eventRoutingKey,
  multiEventRoutingKey,
} from '../protocol/event';
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
  /**
   * `buffer_group`: event groups (`task`, `worker`: the type before the first `-`) that are
   * buffered and sent as one list per group under `<group>.multi`. Celery's worker buffers
   * `['task']` whenever it runs its event loop (`celery/worker/consumer/events.py`, `Events.start`);
   * other senders send each event on its own. Default none.
   */
  bufferGroup?: readonly string[];
  /** `buffer_limit`: a group's buffer is flushed at once when it holds this many (Celery: 24). */
  bufferLimit?: number;
  /**
   * `on_send_buffered`: called after an event was buffered below the limit, to flush soon —
   * the worker's `hub.call_soon(_flush_events)`, the next turn of the loop. Default
   * `setImmediate`.
   */
  scheduleFlush?: (flush: () => void) => void;
}

/** `celery/events/event.py`, `group_from`: `task-succeeded` → `task`. */
export function groupFrom(type: string): string {
  const i = type.indexOf('-');
  return i === -1 ? type : type.slice(0, i);
}

/** One group's buffered events and the callers waiting for them to be published. */
interface GroupBuffer {
  events: Record<string, PyValue>[];
  done: Promise<void>;
  resolve: () => void;
}

function newBuffer(): GroupBuffer {
  let resolve: () => void = () => undefined;
  const done = new Promise<void>((r) => {
    resolve = r;
  });
  return { events: [], done, resolve };
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
  private readonly bufferGroup: ReadonlySet<string>;
  private readonly buffers = new Map<string, GroupBuffer>();
  private flushScheduled = false;
  /** Messages published (a `.multi` list counts once). */
  sent = 0;

  constructor(private readonly o: EventDispatcherOptions) {
    this.enabled = o.enabled ?? false;
    this.exchange = o.exchange ?? EVENT_EXCHANGE;
    this.profile = getProfile(o.profile);
    this.bufferGroup = new Set(o.bufferGroup ?? []);
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

  private async publish(
    body: Record<string, PyValue> | readonly Record<string, PyValue>[],
    routingKey: string,
  ): Promise<void> {
    await this.declare();
    const pub = eventMessage(body, {
      hostname: this.o.hostname,
      routingKey,
      serializer: this.o.serializer ?? 'json',
      jsonDialect: this.o.jsonDialect ?? this.profile.jsonDialect,
      exchange: this.exchange,
    });
    await this.o.broker.publish(pub.message, {
      exchange: pub.exchange,
      routingKey: pub.routingKey,
    });
    this.sent++;
  }

  /**
   * Send one event if enabled (`EventDispatcher.send`); failures are reported, never thrown
   * (events are best-effort). An event of a buffered group is built now (clock and timestamp of
   * this moment) and resolves once its batch is published.
   */
  send(type: string, fields: Readonly<Record<string, PyValue>> = {}): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    const group = groupFrom(type);
    if (!this.bufferGroup.has(group)) return this.sendNow(type, fields);
    let buf = this.buffers.get(group);
    if (!buf) {
      buf = newBuffer();
      this.buffers.set(group, buf);
    }
    buf.events.push(this.build(type, fields));
    if (buf.events.length >= (this.o.bufferLimit ?? 24)) void this.flush();
    else this.requestFlush();
    return buf.done;
  }

  private async sendNow(type: string, fields: Readonly<Record<string, PyValue>>): Promise<void> {
    try {
      await this.publish(this.build(type, fields), eventRoutingKey(type));
    } catch (e) {
      this.o.onError?.(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** `on_send_buffered` → one pending flush at a time (the consumer's `_flush_events_promise`). */
  private requestFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    const run = (): void => {
      this.flushScheduled = false;
      void this.flush();
    };
    if (this.o.scheduleFlush) this.o.scheduleFlush(run);
    else setImmediate(run);
  }

  /** Buffered events not yet published, all groups. */
  get buffered(): number {
    let n = 0;
    for (const b of this.buffers.values()) n += b.events.length;
    return n;
  }

  /**
   * `EventDispatcher.flush(groups=True)`: each non-empty group buffer is published as one list
   * under `<group>.multi` (what `EventReceiver._receive` splits). Resolves when published.
   */
  async flush(): Promise<void> {
    const batches = [...this.buffers.entries()].filter(([, b]) => b.events.length > 0);
    for (const [group] of batches) this.buffers.delete(group);
    await Promise.all(
      batches.map(async ([group, b]) => {
        try {
          await this.publish(b.events, multiEventRoutingKey(group));
        } catch (e) {
          this.o.onError?.(e instanceof Error ? e : new Error(String(e)));
        } finally {
          b.resolve();
        }
      }),
    );
  }
}
