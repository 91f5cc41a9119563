import { loadavg, type } from 'node:os';
import { PyFloat, type PyValue } from '../serialization/py-values';
import type { EventDispatcher } from './dispatcher';

/** Software identification sent in worker events (`sw_ident`, `sw_ver`, `sw_sys`). */
export const SW_IDENT = 'celery-wire';
export const SW_VER = '0.1.0';

/** Live numbers the heart reports. */
export interface HeartStats {
  active(): number;
  processed(): number;
}

/** `round(x + 0.005, 2)`-like "rounded up to 2 decimals" load averages (`Heart._send`). */
function loadAverages(): PyValue[] {
  return loadavg().map((x) => new PyFloat(Math.ceil(x * 100) / 100));
}

/**
 * `celery/worker/heartbeat.py`, `Heart`: `worker-online` at start, `worker-heartbeat` every
 * `freq` seconds (default 2.0), `worker-offline` at stop. Monitors consider a worker alive while
 * `now < last + freq * 2` (`celery/events/state.py`, `heartbeat_expires`).
 */
export class Heart {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly events: EventDispatcher,
    private readonly stats: HeartStats,
    readonly freq = 2.0,
  ) {}

  private fields(freq: number): Record<string, PyValue> {
    return {
      freq: new PyFloat(freq),
      active: this.stats.active(),
      processed: this.stats.processed(),
      loadavg: loadAverages(),
      sw_ident: SW_IDENT,
      sw_ver: SW_VER,
      sw_sys: type(),
    };
  }

  async start(): Promise<void> {
    await this.events.send('worker-online', this.fields(this.freq));
    this.timer = setInterval(() => {
      void this.events.send('worker-heartbeat', this.fields(this.freq));
    }, this.freq * 1000);
    this.timer.unref();
  }

  /** The `heartbeat` control command: one beat with `freq=5` and the `sw_*` fields. */
  async beatNow(): Promise<void> {
    await this.events.send('worker-heartbeat', {
      freq: new PyFloat(5),
      sw_ident: SW_IDENT,
      sw_ver: SW_VER,
      sw_sys: type(),
    });
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.events.send('worker-offline', this.fields(this.freq));
  }
}
