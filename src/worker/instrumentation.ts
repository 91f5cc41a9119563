import type { PyValue } from '../serialization/py-values';
import type { WorkerRequest } from './request';
import type { TraceOutcome } from './tracer';

/**
 * Optional observers of a worker (tracing, metrics: `src/telemetry`), the worker's side of
 * Celery's signals `task_prerun`/`task_postrun` and of its task events. Absent = no cost.
 */
export interface WorkerInstrumentation {
  /**
   * Wraps one run of `req`, from before the body to after the result is stored (Celery's
   * `task_prerun` … `task_postrun`, `celery/app/trace.py`, `build_tracer`). Must call `run`
   * once and return (or rethrow) what it settles with.
   */
  run?(req: WorkerRequest, run: () => Promise<TraceOutcome>): Promise<TraceOutcome>;
  /**
   * Each task event the worker emits (`task-received`, `task-started`, `task-succeeded`, …),
   * whether or not events are sent to the broker (`-E`). Must not throw.
   */
  event?(type: string, fields: Readonly<Record<string, PyValue>>, req: WorkerRequest): void;
}
