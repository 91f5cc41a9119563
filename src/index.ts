/**
 * celery-wire's public API. Curated on purpose: everything not listed here is internal and may
 * change without notice.
 */

// Apps, configuration, calling tasks (Node calls Python).
export { createApp, CeleryApp, type AppOptions } from './app/app';
export {
  DEFAULT_CONFIG,
  resolveConfig,
  type CeleryConfig,
  type CeleryLine,
  type QueueArgument,
  type QueueDefinition,
  type RouteSpec,
  type TaskRoutes,
} from './config/config';
export type { ApplyOptions } from './client/apply-options';
export { AsyncResult, type GetOptions, type RevokeOptions } from './client/async-result';
export { TaskHandle, type TaskDefaults } from './client/task-handle';
export type { TaskMeta } from './backends/backend';
export { EagerResult } from './eager/eager-result';

// Canvas: signatures and workflows, across languages.
export {
  applyCanvas,
  signature,
  s,
  si,
  Signature,
  chain,
  group,
  chord,
  chunks,
  xmap,
  xstarmap,
  Chain,
  Group,
  Chord,
  GroupResult,
  CanvasTaskResult,
  type CanvasResult,
} from './canvas/index';

// Serving tasks (Python calls Node).
export { Worker, type WorkerOptions, type WorkerLogger } from './worker/worker';
export {
  Control,
  Inspect,
  type ByNode,
  type ControlCallOptions,
  type InspectOptions,
} from './control/control-api';
export type { BroadcastOptions, NodeReply } from './control/mailbox-client';
export { EventReceiver, type EventReceiverOptions } from './events/receiver';
export { EventState, type CeleryEvent, type TaskInfo, type WorkerInfo } from './events/state';
export {
  defineTask,
  TaskRegistry,
  type TaskContext,
  type TaskDefinition,
  type TaskOptions,
} from './worker/task';
export {
  PythonError,
  MaxRetriesExceededError,
  SoftTimeLimitExceeded,
  TimeLimitExceeded,
  Retry,
  Reject,
  Ignore,
  type RetryOptions,
} from './worker/exceptions';

// Periodic tasks (Celery beat; RedBeat-compatible store with its leader lock).
export {
  Beat,
  crontab,
  every,
  CrontabSchedule,
  IntervalSchedule,
  FileBeatStore,
  RedBeatStore,
  CrontabParseError,
  solar,
  SolarSchedule,
  type SolarEvent,
  type BeatOptions,
  type BeatSender,
  type BeatSchedule,
  type BeatEntry,
  type BeatStore,
  type CrontabSpec,
  type RedBeatOptions,
} from './beat/index';

// Python values in JavaScript.
export {
  PyFloat,
  PyDateTime,
  PyDate,
  PyTime,
  PyDecimal,
  PyUUID,
  isPyDict,
  type PyValue,
} from './serialization/py-values';

// Errors (names follow Celery/kombu where the meaning matches).
export {
  CeleryError,
  ProtocolError,
  InvalidTaskError,
  SerializationError,
  EncodeError,
  DecodeError,
  SerializerNotInstalledError,
  ContentDisallowedError,
  BrokerError,
  BrokerConnectionError,
  BackendError,
  BackendGetMetaError,
  CeleryTimeoutError,
  TaskFailedError,
  TaskRevokedError,
  isCeleryError,
  type ErrorCode,
} from './errors/errors';
export {
  PreconditionFailedError,
  InequivalentQueueArgumentsError,
  InequivalentExchangeError,
} from './errors/precondition';

// The wire codec (dumps/loads, task messages, envelopes) lives behind `celery-wire/wire`.
// pyJsonDumps stays here too: examples print Python-exact values with it.
export { pyJsonDumps, pyJsonLoads, type JsonDialect } from './serialization/python-json';
export {
  composeInstrumentation,
  type Instrumentation,
  type PublishScope,
  type PublishedTask,
} from './telemetry/instrumentation';
export { otelInstrumentation, type OtelOptions } from './telemetry/otel';
export type { WorkerInstrumentation } from './worker/instrumentation';
export {
  prometheusInstrumentation,
  type MetricsRegistry,
  type MetricsWorker,
  type PrometheusInstrumentation,
  type PrometheusOptions,
} from './telemetry/prometheus';
export { serveMetrics, type MetricsServer } from './telemetry/metrics-server';
