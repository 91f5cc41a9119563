import { loadavg, type } from 'node:os';
import { workerEventFields } from '../protocol/event';
import type { PyValue } from '../serialization/py-values';
import type { EventDispatcher } from './dispatcher';

/** Software identification sent in worker events (`sw_ident`, `sw_ver`, `sw_sys`). */
export const SW_IDENT = 'celery-wire';
export const SW_VER = '0.1.0';

/** Live numbers the heart reports. */
export interface HeartStats {
  active(): number;
  processed(): number;
}

/** What the heart says about the software and the host (defaults: celery-wire, `os`). */
export interface HeartInfo {
  swIdent?: string;
  swVer?: string;
  swSys?: string;
  /** Load averages (1, 5, 15 min); default `os.loadavg()`. */
  loadavg?: () => readonly [number, number, number];
}

/** `os.getloadavg()` as a triple (rounded up to 2 decimals by the caller, `celery/utils/sysinfo.py`, `load_average`). */
function hostLoadavg(): readonly [number, number, number] {
  const [a = 0, b = 0, c = 0] = loadavg();
  return [a, b, c];
}

/**
 * `celery/worker/heartbeat.py`, `Heart`: `worker-online` at start, `worker-heartbeat` every
 * `freq` seconds (default 2.0), `worker-offline` at stop. Monitors consider a worker alive while
 * `now < last + freq * 2` (`celery/events/state.py`, `heartbeat_expires`). The fields are
 * `src/protocol/event.ts`, `workerEventFields` (fixture-tested).
 */
export class Heart {
  private timer: NodeJS.Timeout | undefined;
  private readonly sw: { swIdent: string; swVer: string; swSys: string };

  constructor(
    private readonly events: EventDispatcher,
    private readonly stats: HeartStats,
    readonly freq = 2.0,
    private readonly info: HeartInfo = {},
  ) {
    this.sw = {
      swIdent: info.swIdent ?? SW_IDENT,
      swVer: info.swVer ?? SW_VER,
      swSys: info.swSys ?? type(),
    };
  }

  private fields(freq: number): Record<string, PyValue> {
    const la = (this.info.loadavg ?? hostLoadavg)();
    return workerEventFields({
      freq,
      active: this.stats.active(),
      processed: this.stats.processed(),
      loadavg: [ceil2(la[0]), ceil2(la[1]), ceil2(la[2])],
      ...this.sw,
    });
  }

  async start(): Promise<void> {
    await this.events.send('worker-online', this.fields(this.freq));
    this.timer = setInterval(() => {
      void this.beat();
    }, this.freq * 1000);
    this.timer.unref();
  }

  /** One periodic `worker-heartbeat` (what the timer sends every `freq` seconds). */
  beat(): Promise<void> {
    return this.events.send('worker-heartbeat', this.fields(this.freq));
  }

  /**
   * The `heartbeat` control command (`celery/worker/control.py`, `heartbeat`): one beat with the
   * integer `freq=5` and the `sw_*` fields only.
   */
  async beatNow(): Promise<void> {
    await this.events.send('worker-heartbeat', {
      freq: 5,
      sw_ident: this.sw.swIdent,
      sw_ver: this.sw.swVer,
      sw_sys: this.sw.swSys,
    });
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.events.send('worker-offline', this.fields(this.freq));
  }
}

function ceil2(x: number): number {
  return Math.ceil(x * 100) / 100;
}
