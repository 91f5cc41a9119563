import type { PyValue } from '../serialization/py-values';
import type { BeatSchedule } from './schedules';

/** One `beat_schedule` entry (`celery/beat.py`, `ScheduleEntry`). */
export interface BeatEntry {
  readonly name: string;
  readonly task: string;
  readonly schedule: BeatSchedule;
  readonly args: readonly PyValue[];
  readonly kwargs: Readonly<Record<string, PyValue>>;
  /** `apply_async` options in Celery's snake_case (`queue`, `routing_key`, `priority`, …). */
  readonly options: Readonly<Record<string, PyValue>>;
  readonly enabled?: boolean;
}

/** An entry with its bookkeeping, as the store has it now. */
export interface BeatCandidate {
  readonly entry: BeatEntry;
  /** `null`: never run. */
  readonly lastRunAt: Date | null;
  readonly totalRunCount: number;
}

/** Where last runs are kept, so a restart neither skips nor doubles a run. */
export interface BeatStore {
  setup(entries: readonly BeatEntry[], now: Date): Promise<void>;
  candidates(now: Date, maxIntervalS: number): Promise<BeatCandidate[]>;
  recordRun(entry: BeatEntry, at: Date, totalRunCount: number): Promise<void>;
  /** A leader lock for running several beats (HA), when the store has one. */
  lock?(timeoutS: number): BeatLock | null;
}

/** A leader lock that expires unless extended (RedBeat's `redbeat::lock`). */
export interface BeatLock {
  readonly key: string;
  tryAcquire(): Promise<boolean>;
  /** Extend to the full timeout; false when the lock is no longer ours. */
  extend(): Promise<boolean>;
  release(): Promise<void>;
}
