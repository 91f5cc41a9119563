import type { CeleryConfig } from '../config/config';
import type { ResultBackend } from '../backends/backend';
import type { Delivery, PublishTarget } from '../brokers/broker';
import { prepareException } from '../protocol/exception';
import { FAILURE, REVOKED } from '../protocol/states';
import type { TaskInput } from '../protocol/task-input';
import { PyFloat, type PyValue } from '../serialization/py-values';
import { NotRegistered, TaskRevokedError, exceptionInfoOf } from './exceptions';
import { RateLimiter } from './rate-limit';
import { classify } from './receive';
import { WorkerRequest } from './request';
import { traceTask, type TraceEnv, type TraceOutcome } from './tracer';
import type { Worker } from './worker';
import { canvasRequestOf, chordPartReturn, workerCanvasHost } from '../canvas/index';

/** Log sink; `level` is Celery's. */
export interface WorkerLogger {
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string): void;
}

/** Options of {@link Dispatcher}. */
export interface DispatcherOptions {
  worker: Worker;
  backend: ResultBackend | null;
  config: CeleryConfig;
  concurrency: number;
  now: () => number;
  logger: WorkerLogger;
  publish: (input: TaskInput, target: PublishTarget) => Promise<void>;
  setPrefetch: (n: number) => Promise<void>;
}

interface Running {
  req: WorkerRequest;
  abort: AbortController;
  /** Resolves the run's `stopped` promise (terminate / cold-shutdown abandon). */
  stop: (why: 'terminated' | 'abandoned') => void;
  done: Promise<void>;
}

/**
 * The consumer strategy and the "pool" (`celery/worker/strategy.py`, `default`;
 * `celery/worker/request.py`): receipt checks, ETA timer, rate-limit buckets, a concurrency
 * limit, execution through the tracer, and acks/rejects at Celery's moments (behaviour.md §2).
 */
export class Dispatcher {
  private readonly ready: WorkerRequest[] = [];
  private readonly running = new Map<string, Running>();
  private readonly scheduled = new Map<WorkerRequest, NodeJS.Timeout>();
  private readonly reservedSet = new Set<WorkerRequest>();
  private readonly limiter = new RateLimiter<WorkerRequest>((req) => {
    this.ready.push(req);
    this.pump();
  });
  /** Deliveries received after shutdown began: left unacked, given back on consumer close. */
  private readonly held: Delivery[] = [];
  readonly timeLimits = new Map<string, { hard: number | null; soft: number | null }>();
  private accepting = true;
  /** Cold shutdown began: runs started from now on are abandoned at once. */
  private abandoning = false;
  private prefetchExtra = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly o: DispatcherOptions) {}

  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string): void {
    this.o.logger.log(level, msg);
  }

  /** `-c`: how many tasks run at the same time. */
  get concurrency(): number {
    return this.o.concurrency;
  }

  /** `worker_concurrency × worker_prefetch_multiplier`; 0 = unlimited. */
  basePrefetch(): number {
    return this.o.concurrency * this.o.config.workerPrefetchMultiplier;
  }

  currentPrefetch(): number {
    const base = this.basePrefetch();
    return base === 0 ? 0 : base + this.prefetchExtra;
  }

  private qos(delta: number): void {
    this.prefetchExtra += delta;
    if (this.basePrefetch() === 0) return;
    this.o.setPrefetch(this.currentPrefetch()).catch((e: unknown) => {
      this.log('warn', `basic_qos: ${String(e)}`);
    });
  }

  activeCount(): number {
    return this.running.size;
  }

  activeRequests(): WorkerRequest[] {
    return [...this.running.values()].map((r) => r.req);
  }

  reservedRequests(): WorkerRequest[] {
    return [...this.reservedSet];
  }

  scheduledRequests(): WorkerRequest[] {
    return [...this.scheduled.keys()];
  }

  private send(type: string, fields: Record<string, PyValue>, req?: WorkerRequest): void {
    if (req?.def.options.sendEvents === false) return;
    void this.o.worker.events.send(type, fields);
  }

  /** `Consumer.on_task_received`. Never throws: every outcome is acked/rejected and counted. */
  async onDelivery(d: Delivery): Promise<void> {
    const w = this.o.worker;
    const c = w.counters;
    c.received++;
    if (!this.accepting) {
      this.held.push(d);
      return;
    }
    const r = classify(d.message, w.registry, this.o.config.acceptContent);
    switch (r.kind) {
      case 'unknown-format':
        c.unknownFormat++;
        this.log(
          'warn',
          `Received and deleted unknown message. Wrong destination?!? (queue ${d.queue})`,
        );
        await this.settle(d, 'reject');
        return;
      case 'decode-error':
        c.decodeErrors++;
        this.log('error', `Can't decode message body: ${r.error.message} (queue ${d.queue})`);
        await this.settle(d, 'ack');
        return;
      case 'invalid':
        c.invalid++;
        this.log('error', `Received invalid task message ${r.id ?? '?'}: ${r.error.message}`);
        await this.settle(d, 'reject');
        return;
      case 'unknown': {
        c.unknown++;
        this.log(
          'error',
          `Received unregistered task of type '${r.name}' (id ${r.id ?? '?'}). The message has been rejected.`,
        );
        await this.settle(d, 'reject');
        if (r.id !== null) {
          const info = exceptionInfoOf(new NotRegistered(r.name));
          await this.o.backend
            ?.storeResult(r.id, prepareException(info), FAILURE, {
              traceback: null,
              request: { task: r.name, replyTo: r.replyTo, correlationId: r.correlationId },
            })
            .catch((e: unknown) => {
              this.log('error', `storing NotRegistered for ${r.id ?? ''}: ${String(e)}`);
            });
          this.send('task-failed', { uuid: r.id, exception: `NotRegistered('${r.name}')` });
        }
        return;
      }
      case 'task':
        break;
    }
    const limits = this.timeLimits.get(r.def.name) ?? {};
    const req = new WorkerRequest(r.decoded, d, r.def, w.hostname, this.o.config, limits);
    if ((req.expires !== null || w.revoked.has(req.id)) && (await this.maybeRevoked(req))) return;
    const h = req.decoded.headers;
    // Celery's INFO line (`celery/worker/strategy.py`, `info(_app_trace.LOG_RECEIVED, …)`).
    this.log('info', `Task ${req.name}[${req.id}] received`);
    this.send(
      'task-received',
      {
        uuid: req.id,
        name: req.name,
        args: typeof h.argsrepr === 'string' ? h.argsrepr : '',
        kwargs: typeof h.kwargsrepr === 'string' ? h.kwargsrepr : '',
        root_id: h.root_id ?? null,
        parent_id: h.parent_id ?? null,
        retries: h.retries ?? 0,
        eta: h.eta ?? null,
        expires: h.expires ?? null,
      },
      req,
    );
    const eta = req.eta;
    const delay = eta === null ? 0 : eta - this.o.now();
    if (eta !== null && delay > 0) {
      // Held in memory, unacked; prefetch raised by one so other work still flows.
      this.qos(1);
      const t = setTimeout(() => {
        this.scheduled.delete(req);
        this.qos(-1);
        this.enqueue(req);
      }, delay);
      this.scheduled.set(req, t);
      return;
    }
    this.enqueue(req);
  }

  private async settle(d: Delivery, how: 'ack' | 'reject', requeue = false): Promise<void> {
    try {
      if (how === 'ack') await d.ack();
      else await d.reject(requeue);
    } catch (e) {
      this.log('error', `${how} failed: ${String(e)}`);
    }
  }

  /** `Request.revoked()`: expired or revoked → task-revoked, REVOKED stored, ack. */
  private async maybeRevoked(req: WorkerRequest): Promise<boolean> {
    const w = this.o.worker;
    const now = this.o.now();
    const expired = req.expires !== null && now > req.expires;
    if (expired) w.revoked.add(req.id, now);
    if (!expired && !w.revoked.has(req.id)) return false;
    const reason = expired ? 'expired' : 'revoked';
    this.log('info', `Discarding ${reason} task: ${req.name}[${req.id}]`);
    await this.announceRevoked(req, reason, false, null, expired);
    return true;
  }

  private async announceRevoked(
    req: WorkerRequest,
    reason: string,
    terminated: boolean,
    signum: PyValue,
    expired: boolean,
  ): Promise<void> {
    this.o.worker.counters.revoked++;
    this.send('task-revoked', { uuid: req.id, terminated, signum, expired }, req);
    if (req.storeErrors && this.o.backend) {
      const info = exceptionInfoOf(new TaskRevokedError(reason));
      await this.o.backend
        .storeResult(req.id, prepareException(info), REVOKED, {
          traceback: null,
          request: req.storeRequest(),
        })
        .catch((e: unknown) => {
          this.log('error', `storing REVOKED for ${req.id}: ${String(e)}`);
        });
    }
    // `mark_as_revoked`: a revoked chord header member still returns its part (REVOKED), so
    // the chord fails with ChordError instead of hanging.
    const backend = this.o.backend;
    if (backend && req.decoded.embed.chord !== null) {
      const host = workerCanvasHost({
        config: this.o.config,
        oid: '',
        publish: this.o.publish,
        backend,
      });
      const exc = prepareException(exceptionInfoOf(new TaskRevokedError(reason)));
      await chordPartReturn(canvasRequestOf(req.decoded), REVOKED, exc, { ...host, backend }).catch(
        (e: unknown) => {
          this.log('error', `chord part return of revoked ${req.id}: ${String(e)}`);
        },
      );
    }
    await this.ack(req);
  }

  private async ack(req: WorkerRequest): Promise<void> {
    if (req.acknowledged) return;
    req.acknowledged = true;
    await this.settle(req.delivery, 'ack');
  }

  /** `Request.reject`: no-op when already acked; emits `task-rejected`. */
  private async reject(req: WorkerRequest, requeue: boolean): Promise<void> {
    if (req.acknowledged) return;
    req.acknowledged = true;
    this.o.worker.counters.rejected++;
    this.send('task-rejected', { uuid: req.id, requeue }, req);
    await this.settle(req.delivery, 'reject', requeue);
  }

  /** The `rate_limit` control command; returns false for an unknown task. */
  setRateLimit(name: string, rate: string | number | null): boolean {
    const def = this.o.worker.registry.get(name);
    if (!def) return false;
    this.o.worker.registry.register({ ...def, options: { ...def.options, rateLimit: rate } });
    this.limiter.set(name, rate);
    return true;
  }

  /** Rate limit (`Consumer._limit_task`) then the ready queue. */
  private enqueue(req: WorkerRequest): void {
    this.reservedSet.add(req);
    this.limiter.submit(req, req.def.options.rateLimit ?? null);
  }

  private pump(): void {
    while (this.accepting && this.running.size < this.o.concurrency && this.ready.length > 0) {
      const req = this.ready.shift();
      if (req) this.startRun(req);
    }
    if (this.running.size === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private startRun(req: WorkerRequest): void {
    this.reservedSet.delete(req);
    const abort = new AbortController();
    let stop: (why: 'terminated' | 'abandoned') => void = () => undefined;
    const stopped = new Promise<'terminated' | 'abandoned'>((resolve) => {
      stop = resolve;
    });
    if (this.abandoning) stop('abandoned');
    const entry: Running = { req, abort, stop, done: Promise.resolve() };
    this.running.set(req.id, entry);
    entry.done = this.execute(req, abort, stopped)
      .catch((e: unknown) => {
        this.log('error', `internal error running ${req.name}[${req.id}]: ${String(e)}`);
        return this.ack(req);
      })
      .finally(() => {
        this.running.delete(req.id);
        this.pump();
      });
  }

  private env: TraceEnv | undefined;

  /** The tracer's view of this worker: one object (and closures) for every run, not per task. */
  private traceEnv(): TraceEnv {
    this.env ??= {
      backend: this.o.backend,
      config: this.o.config,
      hostname: this.o.worker.hostname,
      pid: process.pid,
      monotonic: () => performance.now() / 1000,
      sendEvent: (type, fields, req) => {
        this.send(type, fields, req);
      },
      publish: this.o.publish,
      log: (level, msg) => {
        this.log(level, msg);
      },
    };
    return this.env;
  }

  /** `Request.execute_using_pool` + the pool callbacks. */
  private async execute(
    req: WorkerRequest,
    abort: AbortController,
    stopped: Promise<'terminated' | 'abandoned'>,
  ): Promise<void> {
    const w = this.o.worker;
    if (w.revoked.has(req.id) || (req.expires !== null && this.o.now() > req.expires)) {
      await this.maybeRevoked(req);
      return;
    }
    req.timeStart = this.o.now() / 1000;
    this.send('task-started', { uuid: req.id }, req);
    // `Request.on_accepted`: early ack. kombu sends it as the pool starts the job; the job does
    // not wait for the broker's reply, so neither do we.
    const earlyAck = req.acksLate ? Promise.resolve() : this.ack(req);
    const outcome = await traceTask(req, this.traceEnv(), { abort, stopped });
    if (outcome.kind === 'abandoned') return;
    w.counters.total[req.name] = (w.counters.total[req.name] ?? 0) + 1;
    await earlyAck;
    await this.afterRun(req, outcome);
  }

  private async afterRun(req: WorkerRequest, outcome: TraceOutcome): Promise<void> {
    const c = this.o.worker.counters;
    switch (outcome.kind) {
      case 'success':
        c.succeeded++;
        await this.ack(req);
        return;
      case 'failure':
        c.failed++;
        // task_acks_on_failure_or_timeout (default True): ack; else reject (requeue on timeout).
        await this.ack(req);
        return;
      case 'retry':
        c.retried++;
        await this.ack(req);
        return;
      case 'reject':
        await this.reject(req, outcome.requeue);
        return;
      case 'ignore':
        await this.ack(req);
        return;
      case 'terminated':
        await this.announceRevoked(req, 'terminated', true, 15, false);
        return;
      case 'abandoned':
        return;
    }
  }

  /** `revoke(terminate=True)`: abort the running task; returns the ids terminated. */
  terminate(ids: readonly string[]): string[] {
    const out: string[] = [];
    for (const id of ids) {
      const r = this.running.get(id);
      if (!r) continue;
      r.abort.abort(new TaskRevokedError('terminated'));
      r.stop('terminated');
      out.push(id);
    }
    return out;
  }

  stopAccepting(): void {
    this.accepting = false;
  }

  /** Wait until no task runs (warm shutdown). */
  async drain(isCold: () => boolean): Promise<void> {
    while (this.running.size > 0 && !isCold()) {
      await new Promise<void>((resolve) => {
        this.idleWaiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  /**
   * Cold shutdown: abort running tasks and abandon their runs (no result stored, no ack), so that
   * acks_late messages are given back when the consumer closes, as after a worker crash.
   */
  abortRunning(): void {
    this.abandoning = true;
    for (const r of this.running.values()) {
      r.stop('abandoned');
      r.abort.abort(new Error('cold shutdown'));
    }
  }

  /** Drop timers of held (ETA/rate-limited/ready) requests: they stay unacked for restore. */
  releaseHeld(): void {
    for (const t of this.scheduled.values()) clearTimeout(t);
    this.limiter.clear();
    this.scheduled.clear();
    this.ready.length = 0;
  }

  /** `scheduled` inspect entry. */
  scheduledInfo(): PyValue[] {
    return this.scheduledRequests().map((r) => ({
      eta: typeof r.decoded.headers.eta === 'string' ? r.decoded.headers.eta : null,
      priority: r.delivery.deliveryInfo.priority ?? 0,
      request: r.inspectInfo(),
    }));
  }

  /** Seconds as a float, for stats. */
  static seconds(ms: number): PyFloat {
    return new PyFloat(ms / 1000);
  }
}
