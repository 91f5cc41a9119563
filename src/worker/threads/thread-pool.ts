import type { PyValue } from '../../serialization/py-values';
import { inlineExecutor, type TaskCall, type TaskExecutor } from '../executor';
import type { PoolControl } from '../pool-control';
import { SoftTimeLimitExceededReason } from '../tracer';
import type { LogLevel } from '../worker-env';
import { Autoscaler } from './autoscaler';
import { handleCall } from './main-calls';
import type { FromThread } from './messages';
import { ThreadSlot, type ThreadExit } from './thread-slot';
import { unpack } from './transfer';
import { poolStats, retireReason, runMessage, type Job } from './pool-jobs';
import { unpackError } from './error-transfer';
import { WorkerLostError } from './worker-lost';

/** Options of {@link ThreadPool}. */
export interface ThreadPoolOptions {
  /** Absolute path of the app module each thread loads. */
  readonly appPath: string;
  /** `-c`: threads at start (with `--autoscale`, its max). */
  readonly concurrency: number;
  /** `worker_max_tasks_per_child`: a thread is replaced after this many tasks. */
  readonly maxTasksPerChild: number | null;
  /** `worker_max_memory_per_child`, KiB of the thread's V8 heap after a task. */
  readonly maxMemoryPerChild: number | null;
  /** `[soft, hard]` of the config, reported as `timeouts`. */
  readonly timeouts: readonly [number, number];
  /** Tasks without a `pool` option run in a thread (`prefork`) or on the main thread. */
  readonly defaultPool: 'prefork' | 'solo' | 'threads';
  /** `--autoscale max,min`. */
  readonly autoscale: readonly [number, number] | null;
  log(level: LogLevel, msg: string): void;
}

/**
 * Celery's prefork pool (`celery/concurrency/prefork.py`, `billiard/pool.py`) on Node worker
 * threads: each thread loads the app module and runs one task at a time, so synchronous CPU
 * work never blocks the main thread's consumer, heartbeats, events and remote control. A hard
 * time limit or `revoke(terminate=True)` terminates the thread (`Worker.terminate()`, which stops
 * even `while (true) {}`) and a new one replaces it; a thread that dies on its own is a lost
 * child (`WorkerLostError`). Implements the tracer's {@link TaskExecutor} seam and the
 * {@link PoolControl} of remote control.
 */
export class ThreadPool implements TaskExecutor, PoolControl {
  private readonly slots = new Set<ThreadSlot>();
  private readonly queue: Job[] = [];
  private readonly jobs = new Map<number, Job>();
  private nextJob = 0;
  private target: number;
  private closing = false;
  /** Why the app module cannot be loaded in a thread (no respawn after that). */
  private fatal: string | null = null;
  /** Task names the app module defines (known once the first thread is ready). */
  private names: ReadonlySet<string> | null = null;
  private readonly readyWaiters: (() => void)[] = [];
  private readonly autoscaler: Autoscaler | null;
  /** Run when capacity changes (grow/shrink/autoscale): the worker pumps its ready line. */
  onCapacity: () => void = () => undefined;
  /**
   * A thread running `req` died (`WorkerLostError`); returns true when the worker handles it
   * (its run is then abandoned), false to fail the task with the error instead.
   */
  onLost: (call: TaskCall, err: WorkerLostError) => boolean = () => false;

  constructor(private readonly o: ThreadPoolOptions) {
    this.target = o.autoscale ? o.autoscale[1] : o.concurrency;
    this.autoscaler = o.autoscale ? new Autoscaler(this, o.autoscale[0], o.autoscale[1]) : null;
  }

  /** Threads wanted now (the worker's concurrency cap). */
  get size(): number {
    return this.target;
  }

  get scaler(): Autoscaler | null {
    return this.autoscaler;
  }

  /** Start the threads; resolves once all loaded the app module (rejects if it cannot load). */
  async start(): Promise<void> {
    const first = this.spawn();
    await new Promise<void>((resolve, reject) => {
      const t = setInterval(() => {
        if (first.ready) {
          clearInterval(t);
          resolve();
        } else if (!this.slots.has(first)) {
          clearInterval(t);
          reject(new Error(this.fatal ?? 'pool thread exited before it was ready'));
        }
      }, 20);
    });
    for (let i = 1; i < this.target; i++) this.spawn();
    await this.untilReady();
  }

  private spawn(): ThreadSlot {
    const slot = new ThreadSlot(
      this.o.appPath,
      (s, m) => {
        this.onMessage(s, m);
      },
      (s, e) => {
        this.onExit(s, e);
      },
    );
    this.slots.add(slot);
    return slot;
  }

  private live(): ThreadSlot[] {
    return [...this.slots].filter((s) => !s.retiring);
  }

  private untilReady(): Promise<void> {
    if (this.live().every((s) => s.ready)) return Promise.resolve();
    return new Promise((r) => this.readyWaiters.push(r));
  }

  run(call: TaskCall): Promise<unknown> {
    const want = call.req.def.options.pool ?? this.o.defaultPool;
    const inThread = want === 'prefork' && this.names?.has(call.req.name) === true;
    if (!inThread || this.closing) return inlineExecutor.run(call);
    return new Promise((resolve, reject) => {
      const job: Job = { id: ++this.nextJob, call, resolve, reject, slot: null, tokens: new Map() };
      this.jobs.set(job.id, job);
      call.signal.addEventListener('abort', () => {
        this.onAbort(job, call.signal.reason);
      });
      this.queue.push(job);
      this.dispatch();
    });
  }

  private onAbort(job: Job, reason: unknown): void {
    if (!this.jobs.has(job.id)) return;
    const slot = job.slot;
    if (reason instanceof SoftTimeLimitExceededReason) {
      // `soft_timeout_sighandler` in the child: the task sees SoftTimeLimitExceeded.
      slot?.soft(job.id);
      return;
    }
    // Hard limit, terminate or cold shutdown: the child is killed (`Worker._terminate`).
    this.jobs.delete(job.id);
    const i = this.queue.indexOf(job);
    if (i >= 0) this.queue.splice(i, 1);
    // Later than the tracer's own outcome (TIMEOUT, `stopped`), which must win the race: a
    // terminate is REVOKED, not a FAILURE with the abort reason.
    setImmediate(() => {
      job.reject(reason);
    });
    if (slot) {
      slot.job = null;
      slot.retiring = true;
      void slot.kill();
    }
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (!slot.ready || slot.retiring || slot.job !== null) continue;
      const job = this.queue.shift();
      if (!job) return;
      job.slot = slot;
      slot.job = job.id;
      job.call.req.workerPid = slot.threadId;
      slot.writes++;
      try {
        slot.send(runMessage(job));
      } catch (e) {
        // Arguments structured clone refuses cannot come from a message; fail the task.
        slot.job = null;
        this.jobs.delete(job.id);
        job.reject(e);
      }
    }
  }

  private onMessage(slot: ThreadSlot, m: FromThread): void {
    switch (m.t) {
      case 'ready':
        this.names ??= new Set(m.names);
        if (this.live().every((s) => s.ready)) for (const w of this.readyWaiters.splice(0)) w();
        this.dispatch();
        return;
      case 'fatal':
        this.fatal = m.message;
        this.o.log('error', `pool thread could not load the app: ${m.message}`);
        slot.retiring = true;
        void slot.kill();
        return;
      case 'call': {
        const job = this.jobs.get(m.job);
        if (job) handleCall(job.call, job.tokens, slot, m);
        return;
      }
      case 'done':
        this.onDone(slot, m);
        return;
      case 'exiting':
        // Kept by the slot for its exit (`ThreadExit.exitCalled`).
        return;
    }
  }

  private onDone(slot: ThreadSlot, m: Extract<FromThread, { t: 'done' }>): void {
    slot.job = null;
    slot.tasks++;
    slot.heapKiB = m.heapKiB;
    const job = this.jobs.get(m.job);
    this.jobs.delete(m.job);
    if (job) {
      const sent = unpack(m.children);
      if (Array.isArray(sent)) job.call.trail.children.push(...(sent as PyValue[]));
      if (m.error) job.reject(unpackError(m.error, (t) => job.tokens.get(t)));
      else job.resolve(m.value ? unpack(m.value) : null);
    }
    const why = retireReason(slot, this.o);
    if (why !== null) {
      // `maxtasksperchild` / `worker_max_memory_per_child`: replace after the task.
      if (why !== '') this.o.log('warn', why);
      slot.retiring = true;
      void slot.kill();
      return;
    }
    if (slot.retiring) void slot.kill();
    this.dispatch();
  }

  private onExit(slot: ThreadSlot, exit: ThreadExit): void {
    this.slots.delete(slot);
    const jobId = slot.job;
    const job = jobId === null ? undefined : this.jobs.get(jobId);
    if (job && !slot.killed) {
      // A lost child (`Pool.mark_as_worker_lost`).
      this.jobs.delete(job.id);
      const err = new WorkerLostError(exit.code, exit.exitCalled ? null : job.id);
      const why = exit.error ? `: ${exit.error.message}` : '';
      this.o.log(
        'error',
        `Process thread-${String(slot.threadId)} exited with exitcode ${String(exit.code)}${why}`,
      );
      if (!this.onLost(job.call, err)) job.reject(err);
    }
    if (!this.closing && this.live().length < this.target && this.fatal === null) {
      this.spawn();
    }
    this.dispatch();
  }

  /**
   * `pool_grow n`: start n threads. Resolves at once, as billiard's `grow` (the reply to
   * `celery control pool_grow` must not wait for n app imports); they take jobs once ready.
   */
  grow(n: number): Promise<void> {
    this.target += n;
    for (let i = 0; i < n; i++) this.spawn();
    this.onCapacity();
    return Promise.resolve();
  }

  /**
   * `pool_shrink n` (`billiard/pool.py`, `Pool.shrink`): terminate up to n idle threads; throws
   * `Can't shrink pool. All processes busy!` when fewer were idle, as billiard does.
   */
  async shrink(n: number): Promise<void> {
    const idle = this.live().filter((s) => s.job === null);
    const gone = idle.slice(0, Math.min(n, this.target - 1));
    this.target -= gone.length;
    this.onCapacity();
    await Promise.all(
      gone.map((s) => {
        s.retiring = true;
        return s.kill();
      }),
    );
    if (gone.length < n) throw new Error("Can't shrink pool. All processes busy!");
  }

  autoscale(max: number | null, min: number | null): Promise<readonly [number, number]> | null {
    if (!this.autoscaler) return null;
    return this.autoscaler.update(max, min);
  }

  /**
   * `pool_restart`: every thread is replaced (and so the app module re-imported); busy threads
   * finish their task first. Resolves at once, as billiard's `Pool.restart` (which only sets
   * each child's sentinel): the reply must not wait for the imports, or it misses the caller's
   * reply timeout (Flower's is 1 s). New threads take jobs once ready. Whether restarts are
   * allowed (`worker_pool_restarts`) is the control command's check (`celery/worker/control.py`).
   */
  restart(): Promise<void> {
    const old = this.live();
    for (const s of old) s.retiring = true;
    for (let i = 0; i < this.target; i++) this.spawn();
    for (const s of old) if (s.job === null) void s.kill();
    return Promise.resolve();
  }

  /**
   * `stats()['pool']`. `max-concurrency` is the pool's `limit` as `celery/concurrency/prefork.py`,
   * `TaskPool._get_info` reports it: the `-c` the worker started with, or with `--autoscale` its
   * min (`celery/worker/components.py`, `Pool.create`: `procs = w.min_concurrency`; measured on
   * 5.7: `--autoscale 3,1` reports 1), unchanged by grow/shrink/autoscale (the autoscaler's
   * range is in `stats()['autoscaler']`).
   */
  stats(): Record<string, PyValue> {
    return poolStats(
      this.live(),
      this.o.autoscale ? this.o.autoscale[1] : this.o.concurrency,
      this.o,
    );
  }

  /** Stop every thread (the worker's shutdown; cold or after the drain). */
  async close(): Promise<void> {
    this.closing = true;
    this.autoscaler?.stop();
    await Promise.all([...this.slots].map((s) => s.kill()));
  }
}
