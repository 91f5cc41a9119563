import type { CeleryConfig } from '../config/config';
import type { QueueSpec } from '../brokers/broker';
import { stampRevocation } from '../control/stamped-revoke';
import { isPyDict, type PyValue } from '../serialization/py-values';
import type { WorkerRequest } from './request';
import { RevokedSet, newCounters, type WorkerCounters } from './state';
import type { TaskRegistry } from './task';

/** Per-task time limits set by the `time_limit` control command, in seconds. */
export interface TimeLimits {
  hard: number | null;
  soft: number | null;
  /** The values as the `time_limit` command sent them (what `registered` prints: `10.0`). */
  shown?: { hard: PyValue; soft: PyValue };
}

/**
 * The one shared view of a worker (`celery/worker/state.py`: `active_requests`,
 * `reserved_requests`, `revoked`, `total_count`), written by the consumer strategy and the pool
 * and read by inspect/control. Requests are keyed by their delivery ({@link deliveryKey}), never
 * by task id: two copies of one task (a redelivery) are two entries.
 */
export class WorkerState {
  readonly revoked = new RevokedSet();
  readonly counters: WorkerCounters = newCounters();
  /** Running now, by delivery key. */
  readonly active = new Map<string, WorkerRequest>();
  /** Received and waiting for the pool (rate-limited or ready), by delivery key. */
  readonly reserved = new Map<string, WorkerRequest>();
  /** Held for their ETA/countdown, by delivery key. */
  readonly scheduled = new Map<string, WorkerRequest>();
  readonly timeLimits = new Map<string, TimeLimits>();
  /** `worker_state.revoked_stamps`: stamp header → revoked values (`revoke_by_stamped_headers`). */
  readonly revokedStamps = new Map<string, PyValue[]>();
  /** The task queues consumed now (`-Q`, add_consumer, cancel_consumer). */
  readonly queues: QueueSpec[];
  /** Warm/cold shutdown began: no new work is started. */
  shuttingDown = false;

  constructor(
    readonly hostname: string,
    readonly registry: TaskRegistry,
    readonly config: CeleryConfig,
    queues: readonly QueueSpec[],
    readonly concurrency: number,
    readonly startedAt: number,
  ) {
    this.queues = [...queues];
  }

  /**
   * `Request.revoked()`: revoked by id, or by one of its stamps (`revoked_stamps`); returns the
   * revoking header (`{stamp: value}`) for the latter, true for an id, false when not revoked.
   */
  revokedBy(
    id: string,
    headers: Readonly<Record<string, PyValue>>,
  ): boolean | Record<string, PyValue> {
    if (this.revoked.has(id)) return true;
    if (this.revokedStamps.size === 0) return false;
    const sh = headers.stamped_headers;
    const stamps = headers.stamps;
    const names = Array.isArray(sh) ? sh.filter((x): x is string => typeof x === 'string') : [];
    const hit = stampRevocation(this.revokedStamps, names, isPyDict(stamps) ? stamps : null);
    return hit ?? false;
  }

  /** Task counts by name (`state.total_count`), summed. */
  processed(): number {
    return Object.values(this.counters.total).reduce((a, b) => a + b, 0);
  }
}
