import type { CeleryConfig } from '../config/config';
import type { QueueSpec } from '../brokers/broker';
import type { WorkerRequest } from './request';
import { RevokedSet, newCounters, type WorkerCounters } from './state';
import type { TaskRegistry } from './task';

/** Per-task time limits set by the `time_limit` control command, in seconds. */
export interface TimeLimits {
  hard: number | null;
  soft: number | null;
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

  /** Task counts by name (`state.total_count`), summed. */
  processed(): number {
    return Object.values(this.counters.total).reduce((a, b) => a + b, 0);
  }
}
