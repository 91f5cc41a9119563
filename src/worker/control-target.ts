import type { QueueSpec } from '../brokers/broker';
import type { ControlTarget } from '../control/commands';
import { prepareException } from '../protocol/exception';
import { PENDING, RECEIVED, REJECTED, RETRY, REVOKED } from '../protocol/states';
import type { PyValue } from '../serialization/py-values';
import { TaskRevokedError, exceptionInfoOf } from './exceptions';
import type { Worker } from './worker';

/** States a revoke may overwrite (Celery 5.6.2+ `_revoke`). */
const REVOCABLE = new Set([PENDING, RECEIVED, RETRY, REJECTED]);

/** Binds the remote-control command table to a {@link Worker}. */
export class WorkerControl implements ControlTarget {
  constructor(private readonly w: Worker) {}

  get hostname(): string {
    return this.w.hostname;
  }

  async revoke(ids: readonly string[], terminate: boolean): Promise<string[]> {
    const now = Date.now();
    for (const id of ids) this.w.revoked.add(id, now);
    const active = new Set(this.w.dispatcher.activeRequests().map((r) => r.id));
    const backend = this.w.opts.backend;
    if (backend && this.w.config.celeryLine === '5.7') {
      for (const id of ids) {
        if (active.has(id)) continue;
        try {
          const meta = await backend.getTaskMeta(id);
          if (!REVOCABLE.has(meta.status)) continue;
          const info = exceptionInfoOf(new TaskRevokedError('revoked'));
          await backend.storeResult(id, prepareException(info), REVOKED, { traceback: null });
        } catch (e) {
          this.w.dispatcher.log(
            'warn',
            `Failed to mark task ${id} as revoked in backend: ${String(e)}`,
          );
        }
      }
    }
    this.w.dispatcher.log('info', `Tasks flagged as revoked: ${ids.join(', ')}`);
    return terminate ? this.w.dispatcher.terminate(ids) : [];
  }

  active(safe: boolean): PyValue[] {
    return this.w.dispatcher.activeRequests().map((r) => r.inspectInfo(safe));
  }

  reserved(): PyValue[] {
    return this.w.dispatcher.reservedRequests().map((r) => r.inspectInfo());
  }

  scheduled(): PyValue[] {
    return this.w.dispatcher.scheduledInfo();
  }

  revokedIds(): string[] {
    return this.w.revoked.list();
  }

  registered(): string[] {
    return this.w.registry.names().filter((n) => !n.startsWith('celery.'));
  }

  queryTask(ids: readonly string[]): Record<string, PyValue> {
    const want = new Set(ids);
    const out: Record<string, PyValue> = {};
    const d = this.w.dispatcher;
    for (const r of d.activeRequests()) if (want.has(r.id)) out[r.id] = ['active', r.inspectInfo()];
    for (const r of [...d.reservedRequests(), ...d.scheduledRequests()]) {
      if (want.has(r.id)) out[r.id] = ['reserved', r.inspectInfo()];
    }
    return out;
  }

  activeQueues(): PyValue[] {
    return this.w.queues.map((q) => ({
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
    const c = this.w.counters;
    return {
      total: { ...c.total },
      pid: process.pid,
      clock: String(this.w.clock.value),
      uptime: this.w.uptime(),
      pool: {
        implementation: 'celery-wire:async',
        'max-concurrency': this.w.dispatcher.concurrency,
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
      prefetch_count: this.w.dispatcher.currentPrefetch(),
      rusage: (() => {
        const u = process.resourceUsage();
        return { utime: u.userCPUTime / 1e6, stime: u.systemCPUTime / 1e6, maxrss: u.maxRSS };
      })(),
      'celery-wire': this.w.stats(),
    };
  }

  conf(): Record<string, PyValue> {
    const c = this.w.config;
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

  setRateLimit(name: string, rate: string | number | null): boolean {
    return this.w.dispatcher.setRateLimit(name, rate);
  }

  setTimeLimit(name: string, hard: number | null, soft: number | null): boolean {
    if (!this.w.registry.get(name)) return false;
    this.w.dispatcher.timeLimits.set(name, { hard, soft });
    return true;
  }

  setEvents(enabled: boolean): void {
    this.w.events.enabled = enabled;
  }

  heartbeat(): Promise<void> {
    return this.w.heartbeatNow();
  }

  shutdown(): void {
    this.w.requestShutdown();
  }

  addConsumer(spec: QueueSpec): Promise<void> {
    return this.w.addQueue(spec);
  }

  cancelConsumer(queue: string): Promise<void> {
    return this.w.removeQueue(queue);
  }
}
