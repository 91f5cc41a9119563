import { applySettlement, acksEarly, ackRequest, settlementFor } from './ack-policy';
import { isVoid } from './delivery';
import { TaskRevokedError } from './exceptions';
import { setLongTimeout, type LongTimer } from './long-timer';
import { RateLimiter } from './rate-limit';
import type { WorkerRequest } from './request';
import { announceRevoked, maybeRevoked } from './revoke-path';
import { traceTask, type TraceEnv, type TraceOutcome } from './tracer';
import type { ThreadPool } from './threads/thread-pool';
import { onWorkerLost } from './threads/worker-lost-path';
import type { WorkerLostError } from './threads/worker-lost';
import type { WorkerEnv } from './worker-env';

interface Running {
  req: WorkerRequest;
  abort: AbortController;
  /** Resolves the run's `stopped` promise (terminate / cold-shutdown abandon). */
  stop: (why: 'terminated' | 'abandoned') => void;
  done: Promise<void>;
  /** The pool thread running it died (`WorkerLostError`); the run was abandoned for it. */
  lost?: WorkerLostError;
}

/**
 * The "pool" side of Celery's worker (`celery/worker/request.py`, `Request.execute_using_pool`
 * and the pool callbacks; the timer and buckets of `celery/worker/consumer/consumer.py`): ETA
 * timers, rate-limit buckets, the ready line, a concurrency cap and the runs themselves.
 * Everything is keyed by delivery (`WorkerRequest.deliveryKey`): a redelivered copy of a task
 * that still runs is a second entry, so the cap and the shutdown drain count both.
 */
export class Pool {
  private readonly ready: WorkerRequest[] = [];
  private readonly running = new Map<string, Running>();
  private readonly timers = new Map<string, LongTimer>();
  private readonly limiter = new RateLimiter<WorkerRequest>((req) => {
    this.ready.push(req);
    this.pump();
  });
  /** Cold shutdown began: runs started from now on are abandoned at once. */
  private abandoning = false;
  private idleWaiters: (() => void)[] = [];
  private readonly traceEnv: TraceEnv;

  constructor(
    private readonly env: WorkerEnv,
    /** Raise/lower the prefetch by `delta` (one per ETA-held message). */
    private readonly qos: (delta: number) => void,
    /** `-P prefork`: the worker threads task bodies run on (`null`: in-process). */
    readonly threads: ThreadPool | null = null,
  ) {
    if (threads) {
      threads.onCapacity = () => {
        this.pump();
      };
      threads.onLost = (call, err) => {
        const r = this.running.get(call.req.deliveryKey);
        if (!r) return false;
        r.lost = err;
        r.stop('abandoned');
        return true;
      };
    }
    this.traceEnv = {
      backend: env.backend,
      config: env.config,
      hostname: env.state.hostname,
      pid: process.pid,
      monotonic: () => performance.now() / 1000,
      sendEvent: (type, fields, req) => {
        env.sendEvent(type, fields, req);
      },
      publish: (input, target) => env.publish(input, target),
      log: (level, msg) => {
        env.log(level, msg);
      },
      ...(threads ? { executor: threads } : {}),
    };
  }

  /** Tasks that may run at once: the threads of the thread pool, else `-c`. */
  private capacity(): number {
    return this.threads?.size ?? this.env.state.concurrency;
  }

  get activeCount(): number {
    return this.running.size;
  }

  /** Hold `req` until its ETA (`Consumer.apply_eta_task` via the timer), prefetch raised by one. */
  schedule(req: WorkerRequest, delayMs: number): void {
    const key = req.deliveryKey;
    this.env.state.scheduled.set(key, req);
    this.qos(1);
    this.timers.set(
      key,
      setLongTimeout(() => {
        this.timers.delete(key);
        this.env.state.scheduled.delete(key);
        this.qos(-1);
        // `apply_eta_task` hands the request to the pool at once and `execute_using_pool` checks
        // `revoked()` there: a task that expired or was revoked while held is REVOKED at its ETA,
        // even with every slot busy (the ready line would hold it until a slot frees).
        if (this.discardable(req)) this.startRun(req);
        else this.enqueue(req);
      }, delayMs),
    );
  }

  /** Rate limit (`Consumer._limit_task`) then the ready line. */
  enqueue(req: WorkerRequest): void {
    this.env.state.reserved.set(req.deliveryKey, req);
    this.threads?.scaler?.noteReceived();
    this.limiter.submit(req, req.def.options.rateLimit ?? null);
  }

  /** Replace a task's bucket (`reset_rate_limits`); `rate` must already be validated. */
  setRateLimit(name: string, rate: string | number | null): void {
    this.limiter.set(name, rate);
  }

  /** `Request.revoked()`'s cheap test: revoked by id, or past `expires`. */
  private discardable(req: WorkerRequest): boolean {
    const env = this.env;
    return env.state.revoked.has(req.id) || (req.expires !== null && env.now() > req.expires);
  }

  private pump(): void {
    const state = this.env.state;
    while (!state.shuttingDown && this.running.size < this.capacity() && this.ready.length > 0) {
      const req = this.ready.shift();
      if (req) this.startRun(req);
    }
    if (this.running.size === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private startRun(req: WorkerRequest): void {
    const state = this.env.state;
    const key = req.deliveryKey;
    state.reserved.delete(key);
    const abort = new AbortController();
    let stop: (why: 'terminated' | 'abandoned') => void = () => undefined;
    const stopped = new Promise<'terminated' | 'abandoned'>((resolve) => {
      stop = resolve;
    });
    if (this.abandoning) stop('abandoned');
    const entry: Running = { req, abort, stop, done: Promise.resolve() };
    this.running.set(key, entry);
    state.active.set(key, req);
    entry.done = this.execute(req, abort, stopped, entry)
      .catch((e: unknown) => {
        this.env.log('error', `internal error running ${req.name}[${req.id}]: ${String(e)}`);
        return ackRequest(this.env, req);
      })
      .finally(() => {
        this.running.delete(key);
        state.active.delete(key);
        this.pump();
      });
  }

  /** `Request.execute_using_pool` + the pool callbacks. */
  private async execute(
    req: WorkerRequest,
    abort: AbortController,
    stopped: Promise<'terminated' | 'abandoned'>,
    entry: Running,
  ): Promise<void> {
    const env = this.env;
    if (this.discardable(req)) {
      await maybeRevoked(env, req);
      return;
    }
    req.timeStart = env.now() / 1000;
    env.sendEvent('task-started', { uuid: req.id }, req);
    // `celery/worker/state.py`, `task_accepted`: `stats.total` counts a task once it starts, so
    // Flower and `inspect stats` see running tasks counted.
    const c = env.state.counters;
    c.total[req.name] = (c.total[req.name] ?? 0) + 1;
    // `Request.on_accepted`: early ack. kombu sends it as the pool starts the job; the job does
    // not wait for the broker's reply, so neither do we.
    const earlyAck = acksEarly(req) ? ackRequest(env, req) : Promise.resolve();
    const trace = (): Promise<TraceOutcome> => traceTask(req, this.traceEnv, { abort, stopped });
    const outcome = await (env.instrumentation?.run
      ? env.instrumentation.run(req, trace)
      : trace());
    if (outcome.kind === 'abandoned') {
      if (entry.lost) {
        await earlyAck;
        await onWorkerLost(env, req, entry.lost);
      }
      return;
    }
    await earlyAck;
    count(env, outcome);
    if (outcome.kind === 'terminated') {
      await announceRevoked(env, req, 'terminated', true, 15, false);
      return;
    }
    await applySettlement(env, req, settlementFor(outcome, req));
  }

  /** `revoke(terminate=True)`: abort every running copy of these task ids; returns the ids hit. */
  terminate(ids: readonly string[]): string[] {
    const want = new Set(ids);
    const out = new Set<string>();
    for (const r of this.running.values()) {
      if (!want.has(r.req.id)) continue;
      r.abort.abort(new TaskRevokedError('terminated'));
      r.stop('terminated');
      out.add(r.req.id);
    }
    return ids.filter((id) => out.has(id));
  }

  /**
   * The consumer was reset (`Consumer.on_close`): every reserved or ETA-held request whose
   * delivery went back to the broker is dropped, since its redelivered copy will arrive and run.
   * Running requests finish; their ack is a known no-op. Returns how many were dropped.
   */
  dropVoid(): number {
    const state = this.env.state;
    let n = 0;
    for (const [key, req] of [...state.scheduled]) {
      if (!isVoid(req.delivery)) continue;
      this.timers.get(key)?.cancel();
      this.timers.delete(key);
      state.scheduled.delete(key);
      this.qos(-1);
      n++;
    }
    const gone = (r: WorkerRequest): boolean => isVoid(r.delivery);
    for (const r of this.limiter.drop(gone)) {
      state.reserved.delete(r.deliveryKey);
      n++;
    }
    for (let i = this.ready.length - 1; i >= 0; i--) {
      const r = this.ready[i];
      if (r && gone(r)) {
        this.ready.splice(i, 1);
        state.reserved.delete(r.deliveryKey);
        n++;
      }
    }
    for (const [key, r] of [...state.reserved]) {
      if (gone(r)) {
        state.reserved.delete(key);
        n++;
      }
    }
    return n;
  }

  /** Wait until no task runs (warm shutdown), or until `isCold()`. */
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
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
    this.limiter.clear();
    this.env.state.scheduled.clear();
    this.env.state.reserved.clear();
    this.ready.length = 0;
  }
}

function count(env: WorkerEnv, outcome: TraceOutcome): void {
  const c = env.state.counters;
  if (outcome.kind === 'success') c.succeeded++;
  else if (outcome.kind === 'failure') c.failed++;
  else if (outcome.kind === 'retry') c.retried++;
}
