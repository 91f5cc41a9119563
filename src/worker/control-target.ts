import { getProfile } from '../protocol/profiles';
import { brokerInfo } from '../protocol/control-broker-info';
import { confReply } from '../protocol/control-conf';
import { controlQuirks } from '../protocol/control-quirks';
import { confChanges } from '../control/conf-changes';
import { DEFAULT_TASK_INFO_ITEMS, registeredEntry, taskAttributes } from '../control/registered';
import { bugreport } from '../control/report';
import { matchStamps, maybeList } from '../control/stamped-revoke';
import { asyncPoolInfo, rusage } from '../control/stats';
import { queueAsDict } from '../control/queue-info';
import { isPyDict } from '../serialization/py-values';
import type { PoolControl } from './pool-control';
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
  readonly clock: { readonly value: number; forward(): number };
  /** The resizable pool (`pool_grow`…); absent: answered as Celery's solo pool does. */
  readonly pool?: PoolControl;
  /** `worker_pool_restarts`. */
  readonly poolRestarts?: boolean;
  /** `--autoscale` is on. */
  autoscaling?(): boolean;
  /** `stats()['autoscaler']` (`Autoscaler.info()`), when autoscaling. */
  autoscalerInfo?(): Record<string, PyValue>;
  /** Prefetch follows a grow/shrink (`consumer._update_prefetch_count`). */
  updatePrefetch?(delta: number): void;
  eventsEnabled(): boolean;
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
}

/** `{eta, priority, request}` of `inspect scheduled`. */
function scheduledEntry(r: WorkerRequest): PyValue {
  return {
    eta: typeof r.decoded.headers.eta === 'string' ? r.decoded.headers.eta : null,
    // The timer entry's priority (`call_at(eta, …, priority=6)`, `celery/worker/strategy.py`).
    priority: 6,
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

  registered(items: readonly string[], builtins: boolean): string[] {
    const want = items.length > 0 ? items : DEFAULT_TASK_INFO_ITEMS;
    const names = this.s.registry.names().filter((n) => builtins || !n.startsWith('celery.'));
    return names.sort().map((n) => {
      const def = this.s.registry.get(n);
      if (!def) return n;
      const limits = this.s.timeLimits.get(n);
      return registeredEntry(taskAttributes(def, this.s.config, limits?.shown ?? limits), n, want);
    });
  }

  queryTask(ids: readonly string[]): Record<string, PyValue> {
    const want = new Set(ids);
    const out: Record<string, PyValue> = {};
    const s = this.s;
    for (const r of s.active.values()) if (want.has(r.id)) out[r.id] = ['active', r.inspectInfo()];
    for (const r of s.reserved.values())
      if (want.has(r.id)) out[r.id] = ['reserved', r.inspectInfo()];
    // Before 5.7 an ETA request is in no `requests` table until its time comes: not found.
    if (controlQuirks(s.config.celeryLine).queryTaskScheduled) {
      for (const r of s.scheduled.values()) {
        if (want.has(r.id)) out[r.id] = ['scheduled', r.inspectInfo()];
      }
    }
    return out;
  }

  activeQueues(): PyValue[] {
    return this.s.queues.map(queueAsDict);
  }

  /** `WorkController.stats()` (`celery/worker/worker.py`): info, pool, broker, prefetch, rusage. */
  stats(): Record<string, PyValue> {
    const c = this.s.counters;
    const q = controlQuirks(this.s.config.celeryLine);
    return {
      total: { ...c.total },
      pid: process.pid,
      clock: String(this.w.clock.value),
      uptime: this.w.uptime(),
      ...(this.autoscaling() ? { autoscaler: this.w.autoscalerInfo?.() ?? null } : {}),
      pool: this.w.pool ? this.w.pool.stats() : asyncPoolInfo(this.s.concurrency, process.pid),
      broker: brokerInfo(this.s.config.brokerUrl, {
        credentialProvider: q.brokerCredentialProvider,
        // Redis ignores heartbeats; a Python worker still reports broker_heartbeat (120.0).
        heartbeat:
          this.w.transport === 'redis' && this.s.config.brokerHeartbeat === 0
            ? 120
            : this.s.config.brokerHeartbeat,
      }),
      prefetch_count: this.w.prefetchCount(),
      rusage: rusage(),
    };
  }

  conf(withDefaults: boolean): Record<string, PyValue> {
    return confReply(confChanges(this.s.config), {
      withDefaults,
      line: this.s.config.celeryLine,
    });
  }

  report(): string {
    const c = this.s.config;
    return bugreport({
      line: c.celeryLine,
      transport: this.w.transport,
      resultBackend: c.resultBackend,
      changes: confReply(confChanges(c), { withDefaults: false, line: c.celeryLine }),
    });
  }

  /** `hello` (mingle sync): merge the sender's revoked ids; answer ours and the clock. */
  hello(fromNode: string, revoked: PyValue): PyValue {
    if (fromNode === this.s.hostname) return null;
    this.w.log('info', `sync with ${fromNode}`);
    const now = Date.now();
    const incoming = Array.isArray(revoked)
      ? revoked
      : isPyDict(revoked)
        ? Object.keys(revoked)
        : [];
    for (const id of incoming) if (typeof id === 'string') this.s.revoked.add(id, now);
    const ids = this.s.revoked.list();
    return {
      revoked: controlQuirks(this.s.config.celeryLine).helloRevokedList
        ? ids
        : Object.fromEntries(ids.map((id) => [id, [0, id]])),
      clock: this.w.clock.forward(),
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

  setTimeLimit(
    name: string,
    hard: number | null,
    soft: number | null,
    shown?: { hard: PyValue; soft: PyValue },
  ): boolean {
    if (!this.s.registry.get(name)) return false;
    this.s.timeLimits.set(name, shown === undefined ? { hard, soft } : { hard, soft, shown });
    return true;
  }

  eventsEnabled(): boolean | null {
    return this.w.eventsEnabled();
  }

  setEvents(enabled: boolean): void {
    this.w.setEvents(enabled);
  }

  heartbeat(): Promise<void> {
    return this.w.heartbeat();
  }

  shutdown(msg: string): void {
    this.w.log('warn', msg);
    this.w.shutdown();
  }

  poolControl(): PoolControl | null {
    return this.w.pool ?? null;
  }

  autoscaling(): boolean {
    return this.w.autoscaling?.() ?? false;
  }

  poolRestartsEnabled(): boolean {
    return this.w.poolRestarts ?? false;
  }

  updatePrefetch(delta: number): void {
    this.w.updatePrefetch?.(delta);
  }

  addRevokedStamps(headers: Readonly<Record<string, PyValue>>): void {
    for (const [h, v] of Object.entries(headers)) {
      this.s.revokedStamps.set(h, [...(this.s.revokedStamps.get(h) ?? []), ...maybeList(v)]);
    }
  }

  terminateStamped(headers: Readonly<Record<string, PyValue>>): Map<string, PyValue[]> {
    const out = new Map<string, PyValue[]>();
    for (const r of [...this.s.active.values()]) {
      const stamps = r.decoded.headers.stamps;
      const hit = matchStamps(headers, isPyDict(stamps) ? stamps : null);
      if (hit.size === 0) continue;
      for (const [h, vs] of hit) out.set(h, [...new Set([...(out.get(h) ?? []), ...vs])]);
      this.w.terminate([r.id]);
    }
    return out;
  }

  addConsumer(spec: QueueSpec): Promise<void> {
    return this.w.addQueue(spec);
  }

  cancelConsumer(queue: string): Promise<void> {
    return this.w.cancelQueue(queue);
  }
}
