import { getProfile } from '../protocol/profiles';
import type { ResultBackend } from '../backends/backend';
import type { QueueSpec } from '../brokers/broker';
import type { ControlTarget } from '../control/commands';
import { prepareException } from '../protocol/exception';
import { PENDING, RECEIVED, REJECTED, RETRY, REVOKED } from '../protocol/states';
import type { PyValue } from '../serialization/py-values';
import { TaskRevokedError, exceptionInfoOf } from './exceptions';
import { parseRate } from './rate-limit';
import type { WorkerRequest } from './request';
import type { LogLevel } from './worker-env';
import type { WorkerState } from './worker-state';

/** States a revoke may overwrite (Celery 5.6.2+ `_revoke`). */
const REVOCABLE = new Set([PENDING, RECEIVED, RETRY, REJECTED]);

/**
 * What control can make the worker do (`state.consumer` methods in `celery/worker/control.py`);
 * the inspect side reads {@link WorkerState} only. Implemented by the worker, so this module
 * never imports it (no worker ↔ control import circle).
 */
export interface WorkerActions {
  readonly backend: ResultBackend | null;
  readonly transport: 'redis' | 'amqp';
  readonly clock: { readonly value: number };
  log(level: LogLevel, msg: string): void;
  uptime(): number;
  prefetchCount(): number;
  terminate(ids: readonly string[]): string[];
  /** Replace the task's token bucket; `rate` is already validated. */
  resetRateLimit(name: string, rate: string | number | null): void;
  setEvents(enabled: boolean): void;
  heartbeat(): Promise<void>;
  shutdown(): void;
  addQueue(spec: QueueSpec): Promise<void>;
  cancelQueue(queue: string): Promise<void>;
  stats(): Record<string, PyValue>;
}

/** `{eta, priority, request}` of `inspect scheduled`. */
function scheduledEntry(r: WorkerRequest): PyValue {
  return {
    eta: typeof r.decoded.headers.eta === 'string' ? r.decoded.headers.eta : null,
    priority: r.delivery.deliveryInfo.priority ?? 0,
    request: r.inspectInfo(),
  };
}

/** Binds the remote-control command table to a worker's state and actions. */
export class WorkerControl implements ControlTarget {
  constructor(
    private readonly s: WorkerState,
    private readonly w: WorkerActions,
  ) {}

  get hostname(): string {
    return this.s.hostname;
  }

  async revoke(ids: readonly string[], terminate: boolean): Promise<string[]> {
    const now = Date.now();
    for (const id of ids) this.s.revoked.add(id, now);
    const active = new Set([...this.s.active.values()].map((r) => r.id));
    const backend = this.w.backend;
    // Celery 5.6+ mark revoked ids REVOKED in the backend; older lines only flag them.
    if (backend && getProfile(`celery-${this.s.config.celeryLine}`).revokeMarksBackend) {
      for (const id of ids) {
        if (active.has(id)) continue;
        try {
          const meta = await backend.getTaskMeta(id);
          if (!REVOCABLE.has(meta.status)) continue;
          const info = exceptionInfoOf(new TaskRevokedError('revoked'));
          await backend.storeResult(id, prepareException(info), REVOKED, { traceback: null });
        } catch (e) {
          this.w.log('warn', `Failed to mark task ${id} as revoked in backend: ${String(e)}`);
        }
      }
    }
    this.w.log('info', `Tasks flagged as revoked: ${ids.join(', ')}`);
    return terminate ? this.w.terminate(ids) : [];
  }

  active(safe: boolean): PyValue[] {
    return [...this.s.active.values()].map((r) => r.inspectInfo(safe));
  }

  reserved(): PyValue[] {
    return [...this.s.reserved.values()].map((r) => r.inspectInfo());
  }

  scheduled(): PyValue[] {
    return [...this.s.scheduled.values()].map(scheduledEntry);
  }

  revokedIds(): string[] {
    return this.s.revoked.list();
  }

  registered(): string[] {
    return this.s.registry.names().filter((n) => !n.startsWith('celery.'));
  }

  queryTask(ids: readonly string[]): Record<string, PyValue> {
    const want = new Set(ids);
    const out: Record<string, PyValue> = {};
    const s = this.s;
    for (const r of s.active.values()) if (want.has(r.id)) out[r.id] = ['active', r.inspectInfo()];
    for (const r of [...s.reserved.values(), ...s.scheduled.values()]) {
      if (want.has(r.id)) out[r.id] = ['reserved', r.inspectInfo()];
    }
    return out;
  }

  activeQueues(): PyValue[] {
    return this.s.queues.map((q) => ({
      name: q.name,
      exchange: {
        name: q.exchange ?? q.name,
        type: q.exchangeType ?? 'direct',
        arguments: null,
        durable: true,
        passive: false,
        auto_delete: false,
        delivery_mode: null,
        no_declare: false,
      },
      routing_key: q.routingKey ?? q.name,
      queue_arguments: null,
      binding_arguments: null,
      consumer_arguments: null,
      durable: true,
      exclusive: false,
      auto_delete: false,
      no_ack: false,
      alias: null,
      bindings: [],
      no_declare: null,
      expires: null,
      message_ttl: null,
      max_length: null,
      max_length_bytes: null,
      max_priority: null,
    }));
  }

  stats(): Record<string, PyValue> {
    const c = this.s.counters;
    return {
      total: { ...c.total },
      pid: process.pid,
      clock: String(this.w.clock.value),
      uptime: this.w.uptime(),
      pool: {
        implementation: 'celery-wire:async',
        'max-concurrency': this.s.concurrency,
        processes: [process.pid],
        'max-tasks-per-child': 'N/A',
        'put-guarded-by-semaphore': false,
        timeouts: [0, 0],
        writes: {
          total: 0,
          avg: '0.00',
          all: '',
          raw: '',
          strategy: null,
          inqueues: { total: 0, active: 0 },
        },
      },
      broker: { transport: this.w.transport },
      prefetch_count: this.w.prefetchCount(),
      rusage: (() => {
        const u = process.resourceUsage();
        return { utime: u.userCPUTime / 1e6, stime: u.systemCPUTime / 1e6, maxrss: u.maxRSS };
      })(),
      'celery-wire': this.w.stats(),
    };
  }

  conf(): Record<string, PyValue> {
    const c = this.s.config;
    return {
      broker_url: c.brokerUrl.replace(/:[^:@/]*@/, ':**@'),
      result_backend: c.resultBackend.replace(/:[^:@/]*@/, ':**@'),
      task_serializer: c.taskSerializer,
      result_serializer: c.resultSerializer,
      accept_content: [...c.acceptContent],
      task_acks_late: c.taskAcksLate,
      task_default_queue: c.taskDefaultQueue,
      worker_prefetch_multiplier: c.workerPrefetchMultiplier,
    };
  }

  clockValue(): number {
    return this.w.clock.value;
  }

  /**
   * `rate_limit` (`celery/worker/control.py`): the rate is validated first (`rate(rate_limit)`,
   * refused on ValueError), so an invalid one is never stored; then the task's limit is set and
   * its bucket reset. Throws `InvalidTaskError` for an invalid rate.
   */
  setRateLimit(name: string, rate: string | number | null): boolean {
    parseRate(rate);
    const def = this.s.registry.get(name);
    if (!def) {
      this.w.log('error', `Rate limit attempt for unknown task ${name}`);
      return false;
    }
    this.s.registry.register({ ...def, options: { ...def.options, rateLimit: rate } });
    this.w.resetRateLimit(name, rate);
    if (rate === null || rate === 0 || rate === '') {
      this.w.log('info', `Rate limits disabled for tasks of type ${name}`);
    } else {
      this.w.log('info', `New rate limit for tasks of type ${name}: ${String(rate)}.`);
    }
    return true;
  }

  setTimeLimit(name: string, hard: number | null, soft: number | null): boolean {
    if (!this.s.registry.get(name)) return false;
    this.s.timeLimits.set(name, { hard, soft });
    return true;
  }

  setEvents(enabled: boolean): void {
    this.w.setEvents(enabled);
  }

  heartbeat(): Promise<void> {
    return this.w.heartbeat();
  }

  shutdown(): void {
    this.w.shutdown();
  }

  addConsumer(spec: QueueSpec): Promise<void> {
    return this.w.addQueue(spec);
  }

  cancelConsumer(queue: string): Promise<void> {
    return this.w.cancelQueue(queue);
  }
}
