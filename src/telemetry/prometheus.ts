import type { Counter, Histogram, Registry } from 'prom-client';
import type { PyValue } from '../serialization/py-values';
import type { WorkerRequest } from '../worker/request';
import type { Instrumentation } from './instrumentation';
import { loadPromClient } from './prometheus-api';
import { pythonBucketLabels } from './prometheus-buckets';

/** Options of {@link prometheusInstrumentation}, named after celery-exporter's. */
export interface PrometheusOptions {
  /**
   * A prom-client `Registry` to register in (default: a new one, so two workers in a process do
   * not clash).
   */
  registry?: MetricsRegistry;
  /** `--metric-prefix` (default `celery_`). */
  prefix?: string;
  /** `--buckets` of `celery_task_runtime` (default prometheus_client's `Histogram.DEFAULT_BUCKETS`). */
  buckets?: readonly number[];
}

/** What the worker gauges read (`celery_worker_up`, `celery_worker_tasks_active`). */
export interface MetricsWorker {
  readonly hostname: string;
  /** Tasks running now. */
  activeCount(): number;
  /** Consuming and not shutting down. */
  isUp(): boolean;
}

/**
 * The part of a prom-client `Registry` that serving needs, typed structurally so that the
 * declarations do not need the optional peer installed.
 */
export interface MetricsRegistry {
  metrics(): Promise<string>;
  readonly contentType: string;
}

/** Prometheus metrics of a worker: an {@link Instrumentation} plus its registry. */
export interface PrometheusInstrumentation extends Instrumentation {
  /** The prom-client `Registry` holding the metrics. */
  readonly registry: MetricsRegistry;
  /** Report `celery_worker_up` / `celery_worker_tasks_active` for this worker. */
  bindWorker(worker: MetricsWorker): void;
}

/** prometheus_client's `Histogram.DEFAULT_BUCKETS` (+Inf is implicit in prom-client). */
const PY_DEFAULT_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/**
 * The task counters of celery-exporter (danihodovic/celery-exporter, `src/exporter.py`,
 * `Exporter.__init__`, `state_counters`), event type → (name, help). prometheus_client adds
 * `_total` to a counter's name; prom-client does not, so it is part of the name here.
 * `task-sent` is a producer's event, which a worker never emits, so it is not here.
 */
const COUNTERS: Record<string, [string, string]> = {
  'task-received': ['task_received_total', 'Sent when the worker receives a task.'],
  'task-started': ['task_started_total', 'Sent just before the worker executes the task.'],
  'task-succeeded': ['task_succeeded_total', 'Sent if the task executed successfully.'],
  'task-failed': ['task_failed_total', 'Sent if the execution of the task failed.'],
  'task-rejected': [
    'task_rejected_total',
    'The task was rejected by the worker, possibly to be re-queued or moved to a dead letter queue.',
  ],
  'task-revoked': ['task_revoked_total', 'Sent if the task has been revoked.'],
  'task-retried': [
    'task_retried_total',
    'Sent if the task failed, but will be retried in the future.',
  ],
};

/** `get_hostname`: the host part of a node name (`celery.utils.nodesplit`). */
export function exporterHostname(nodename: string): string {
  const at = nodename.indexOf('@');
  return at < 0 ? nodename : nodename.slice(at + 1);
}

/** `get_exception_class_name`: `ValueError('x')` → `ValueError`. */
export function exceptionClassName(exception: PyValue | undefined): string {
  const m = typeof exception === 'string' ? /^(\w+)\(/.exec(exception) : null;
  return m?.[1] ?? 'UnknownException';
}

/**
 * The TS worker's metrics under celery-exporter's names and labels, so existing Celery
 * dashboards (celery-exporter's celery-mixin) show it: counted from the worker's own task
 * events, as celery-exporter counts them from the event stream (`Exporter.track_task_event`),
 * whether or not `-E` sends them. `queue_name` is the queue the task came from (celery-exporter
 * takes it from `task-sent`, default `celery`). Needs the optional peer `prom-client`.
 */
export function prometheusInstrumentation(o: PrometheusOptions = {}): PrometheusInstrumentation {
  const prom = loadPromClient();
  const registry = (o.registry as Registry | undefined) ?? new prom.Registry();
  const prefix = o.prefix ?? 'celery_';
  const counters = new Map<string, Counter>();
  for (const [type, [name, help]] of Object.entries(COUNTERS)) {
    const labelNames =
      type === 'task-failed'
        ? ['name', 'hostname', 'exception', 'queue_name']
        : ['name', 'hostname', 'queue_name'];
    counters.set(
      type,
      new prom.Counter({ name: `${prefix}${name}`, help, labelNames, registers: [registry] }),
    );
  }
  const runtime: Histogram = new prom.Histogram({
    name: `${prefix}task_runtime`,
    help: 'Histogram of task runtime measurements.',
    labelNames: ['name', 'hostname', 'queue_name'],
    buckets: [...(o.buckets ?? PY_DEFAULT_BUCKETS)],
    registers: [registry],
  });
  pythonBucketLabels(runtime);
  const workers: MetricsWorker[] = [];
  new prom.Gauge({
    name: `${prefix}worker_up`,
    help: 'Indicates if a worker has recently sent a heartbeat.',
    labelNames: ['hostname'],
    registers: [registry],
    collect() {
      for (const w of workers)
        this.set({ hostname: exporterHostname(w.hostname) }, w.isUp() ? 1 : 0);
    },
  });
  new prom.Gauge({
    name: `${prefix}worker_tasks_active`,
    help: 'The number of tasks the worker is currently processing',
    labelNames: ['hostname'],
    registers: [registry],
    collect() {
      for (const w of workers)
        this.set({ hostname: exporterHostname(w.hostname) }, w.activeCount());
    },
  });
  const onEvent = (
    type: string,
    fields: Readonly<Record<string, PyValue>>,
    req: WorkerRequest,
  ): void => {
    if (!counters.has(type)) return;
    const labels = {
      name: req.name,
      hostname: exporterHostname(req.hostname),
      queue_name: req.delivery.queue || 'celery',
    };
    // As celery-exporter: the event's counter +1, every other task counter of these labels
    // instantiated at 0 so dashboards see the series; `exception` is '' on the others.
    for (const [t, c] of counters) {
      // celery-exporter's label order (`name, hostname, exception, queue_name`) for task-failed.
      const l =
        t === 'task-failed'
          ? {
              name: labels.name,
              hostname: labels.hostname,
              exception: t === type ? exceptionClassName(fields.exception) : '',
              queue_name: labels.queue_name,
            }
          : labels;
      c.inc(l, t === type ? 1 : 0);
    }
    if (type === 'task-succeeded') {
      const rt = fields.runtime;
      const seconds = typeof rt === 'number' ? rt : Number(rt?.valueOf());
      if (Number.isFinite(seconds)) runtime.observe(labels, seconds);
    }
  };
  return {
    registry,
    bindWorker(worker) {
      workers.push(worker);
    },
    event: onEvent,
  };
}
