import type { ResultBackend } from '../backends/backend';
import type { PublishTarget } from '../brokers/broker';
import type { CeleryConfig } from '../config/config';
import type { TaskInput } from '../protocol/task-input';
import type { PyValue } from '../serialization/py-values';
import type { WorkerInstrumentation } from './instrumentation';
import type { WorkerRequest } from './request';
import type { WorkerState } from './worker-state';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Log sink; `level` is Celery's. */
export interface WorkerLogger {
  log(level: LogLevel, msg: string): void;
}

/**
 * What the consumer strategy, the pool and the ack policy share: the worker state, the backend,
 * logging, events and publishing. Built once by {@link Worker}; none of these modules imports
 * the worker itself.
 */
export interface WorkerEnv {
  readonly state: WorkerState;
  readonly backend: ResultBackend | null;
  readonly config: CeleryConfig;
  now(): number;
  log(level: LogLevel, msg: string): void;
  /** A task event; dropped when `req`'s task has `send_events=False`. Never throws. */
  sendEvent(type: string, fields: Record<string, PyValue>, req?: WorkerRequest): void;
  publish(input: TaskInput, target: PublishTarget): Promise<void>;
  /** Tracing/metrics hooks (`src/telemetry`); absent = none. */
  readonly instrumentation?: WorkerInstrumentation | undefined;
}
