import type { PyValue } from '../serialization/py-values';
import type { LogLevel } from './worker-env';

/** What the sender needs of `EventDispatcher` (`src/events/dispatcher.ts`). */
export interface EventSink {
  readonly enabled: boolean;
  send(type: string, fields: Readonly<Record<string, PyValue>>): Promise<void>;
}

/** Default cap of event publishes awaiting the broker. */
export const MAX_EVENTS_IN_FLIGHT = 1000;

/**
 * Bounds the event publishes in flight. Events are best-effort (the dispatcher reports and
 * swallows failures), but a broker that stops answering would otherwise pile up one pending
 * publish per task event without limit. Over the cap, events are dropped and counted, and one
 * warning is logged per overflow episode.
 */
export class BoundedEventSender {
  private inFlight = 0;
  private overflowing = false;
  /** Events dropped because the cap was reached. */
  dropped = 0;

  constructor(
    private readonly sink: EventSink,
    private readonly log: (level: LogLevel, msg: string) => void,
    private readonly limit = MAX_EVENTS_IN_FLIGHT,
  ) {}

  get pending(): number {
    return this.inFlight;
  }

  send(type: string, fields: Readonly<Record<string, PyValue>>): void {
    if (!this.sink.enabled) return;
    if (this.inFlight >= this.limit) {
      this.dropped++;
      if (!this.overflowing) {
        this.overflowing = true;
        this.log(
          'warn',
          `event not sent: ${String(this.limit)} event publishes already in flight (broker slow or unreachable); dropping events`,
        );
      }
      return;
    }
    this.inFlight++;
    void this.sink
      .send(type, fields)
      .catch(() => undefined)
      .finally(() => {
        this.inFlight--;
        if (this.inFlight < this.limit / 2) this.overflowing = false;
      });
  }
}
