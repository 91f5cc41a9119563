import type { ApplyOptions } from '../client/apply-options';
import { entryApplyOptions } from './entry-options';
import type { BeatEntry, BeatLock, BeatStore } from './store';

/** What beat sends with: the app or its client (`sendTask`). */
export interface BeatSender {
  sendTask(name: string, opts?: ApplyOptions): Promise<{ readonly id: string }>;
}

export type BeatLogger = (level: 'debug' | 'info' | 'warning' | 'error', message: string) => void;

export interface BeatOptions {
  readonly store: BeatStore;
  readonly entries: readonly BeatEntry[];
  readonly sender: BeatSender;
  /** `beat_max_loop_interval` in seconds (Celery's default 300). */
  readonly maxInterval?: number;
  /** `redbeat_lock_timeout` in seconds (default 5 × maxInterval, as RedBeat). */
  readonly lockTimeout?: number;
  readonly now?: () => Date;
  readonly logger?: BeatLogger;
  /**
   * Called once the lock is held and the schedule set up, before the first pass: where the CLI
   * starts beat's remote control (`Service.start` starts `BeatPidbox` there).
   */
  readonly onReady?: () => Promise<void>;
}

/** Celery's idea of "never ran": `datetime(MINYEAR, 1, 2)` (`RedBeatSchedulerEntry.is_due`). */
const NEVER = new Date(-62135510400000); // 0001-01-02T00:00:00Z

/**
 * Celery beat (`celery/beat.py`, `Scheduler.tick`) over a {@link BeatStore}: sends each due
 * entry as Python beat would (`send_task(entry.task, args, kwargs, **entry.options)`), records
 * the run, and sleeps until the next entry is due (at most `maxInterval`). With a store lock,
 * only the holder sends; the others wait to take over (RedBeat's HA).
 */
export class Beat {
  private readonly maxInterval: number;
  private readonly lockTimeout: number;
  private readonly now: () => Date;
  private readonly log: BeatLogger;
  private lock: BeatLock | null = null;
  private stopped = false;
  private wake: (() => void) | undefined;
  /** `Service._last_tick`: monotonic ms of the last scheduler pass. */
  private lastTick: number | null = null;

  constructor(private readonly opts: BeatOptions) {
    this.maxInterval = opts.maxInterval ?? 300;
    this.lockTimeout = opts.lockTimeout ?? this.maxInterval * 5;
    this.now = opts.now ?? (() => new Date());
    this.log = opts.logger ?? (() => undefined);
  }

  /** Install the static schedule (`setup_schedule`). */
  async setup(): Promise<void> {
    await this.opts.store.setup(this.opts.entries, this.now());
  }

  /** One `tick`: send what is due; resolves to the seconds to sleep. */
  async tick(): Promise<number> {
    if (this.lock && !(await this.lock.extend())) {
      this.log('error', `beat: Lost lock ${this.lock.key}; waiting to acquire it again`);
      this.lock = null;
      await this.acquire();
    }
    const now = this.now();
    const remaining: number[] = [];
    for (const c of await this.opts.store.candidates(now, this.maxInterval)) {
      if (c.entry.enabled === false) {
        remaining.push(5);
        continue;
      }
      const state = c.entry.schedule.isDue(c.lastRunAt ?? NEVER, now);
      if (state.isDue) {
        this.log('info', `Scheduler: Sending due task ${c.entry.name} (${c.entry.task})`);
        try {
          const r = await this.opts.sender.sendTask(c.entry.task, {
            ...entryApplyOptions(c.entry.options),
            args: [...c.entry.args],
            kwargs: { ...c.entry.kwargs },
          });
          this.log('debug', `Scheduler: ${c.entry.task} sent. id->${r.id}`);
        } catch (e) {
          this.log('error', `Scheduler: Message Error: ${String(e)}`);
        }
        // Recorded even when the send failed, as Celery's `apply_async(advance=True)` does.
        await this.opts.store.recordRun(c.entry, now, c.totalRunCount + 1);
      }
      if (state.nextSeconds > 0 && Number.isFinite(state.nextSeconds))
        remaining.push(state.nextSeconds);
    }
    return Math.min(...remaining, this.maxInterval);
  }

  /** Acquire the store's lock (when it has one), polling until it is ours or beat stops. */
  private async acquire(): Promise<void> {
    const lock = this.opts.store.lock?.(this.lockTimeout) ?? null;
    if (!lock) return;
    this.log('debug', 'beat: Acquiring lock...');
    while (!this.isStopped() && !(await lock.tryAcquire())) {
      await this.sleep(Math.min(this.maxInterval, 1));
    }
    if (this.isStopped()) return;
    this.log('info', 'beat: Acquired lock');
    this.lock = lock;
  }

  /** Run until {@link stop}: acquire the lock, set up the schedule, tick and sleep. */
  async run(): Promise<void> {
    this.log('info', 'beat: Starting...');
    await this.acquire();
    if (this.isStopped()) return;
    await this.setup();
    await this.opts.onReady?.();
    // Stamped before the first pass, so a beat that wedges before it ever ticks goes stale.
    this.lastTick = performance.now();
    while (!this.isStopped()) {
      let wait = this.maxInterval;
      try {
        wait = await this.tick();
      } catch (e) {
        this.log('error', `beat: tick failed: ${String(e)}`);
        wait = Math.min(this.maxInterval, 5);
      }
      this.lastTick = performance.now();
      if (!this.isStopped()) await this.sleep(wait);
    }
  }

  /** Seconds since the last scheduler pass (`BeatPidbox.tick_age`); `null` before the first. */
  tickAge(): number | null {
    return this.lastTick === null ? null : (performance.now() - this.lastTick) / 1000;
  }

  /** The loop interval this beat settled on (`Service.effective_max_interval`). */
  get loopInterval(): number {
    return this.maxInterval;
  }

  /** Read through a call: `stop()` flips it while `run()` awaits. */
  private isStopped(): boolean {
    return this.stopped;
  }

  private sleep(seconds: number): Promise<void> {
    return new Promise((res) => {
      const t = setTimeout(res, Math.max(0, Math.min(seconds, this.maxInterval)) * 1000);
      this.wake = () => {
        clearTimeout(t);
        res();
      };
    });
  }

  /** Stop ticking and release the lock (`Scheduler.close`). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    if (this.lock) {
      this.log('info', 'beat: Releasing lock');
      await this.lock.release();
      this.lock = null;
    }
  }

  /** Stop without releasing the lock, as a killed process would (tests, crash simulation). */
  abandon(): void {
    this.stopped = true;
    this.wake?.();
  }
}
