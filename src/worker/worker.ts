import { hostname as osHostname } from 'node:os';
import { resolveConfig, type CeleryConfig } from '../config/config';
import type { ResultBackend } from '../backends/backend';
import type { Broker, PublishTarget, QueueSpec } from '../brokers/broker';
import { isFanoutBroker } from '../brokers/fanout';
import { controlHandlers } from '../control/commands';
import { PidboxNode } from '../control/pidbox';
import { LamportClock } from '../events/clock';
import { EventDispatcher } from '../events/dispatcher';
import { Heart } from '../events/heartbeat';
import { getProfile, type CeleryProfileName } from '../protocol/profiles';
import { mailboxSerialization } from '../protocol/mailbox-serialization';
import { encodeTaskMessage, type TaskInput } from '../protocol/task-message';
import type { PyValue } from '../serialization/py-values';
import { anonNodename, workerNodename } from '../util/hostname';
import { workerCanvasHost } from '../canvas/worker-host';
import type { ProgressionHost } from '../canvas/progression';
import { brokerStatusLine } from './broker-status-log';
import { builtinTasks } from './builtins';
import { WorkerControl, type WorkerActions } from './control-target';
import type { WorkerInstrumentation } from './instrumentation';
import { BoundedEventSender } from './event-sender';
import { Pool } from './pool';
import type { PoolControl } from './pool-control';
import { createThreadPool } from './threads/create';
import type { RevokedSet, WorkerCounters } from './state';
import { TaskStrategy } from './strategy';
import { TaskConsumer } from './task-consumer';
import { TaskRegistry, type TaskDefinition } from './task';
import { connectWithRetry } from './startup';
import { WorkerSentEvents } from './sent-events';
import { setupDelayedDelivery } from './delayed-delivery';
import { qosMode } from './qos-mode';
import { queueSpec } from '../protocol/route';
import type { LogLevel, WorkerEnv, WorkerLogger } from './worker-env';
import { WorkerState } from './worker-state';

export type { WorkerLogger } from './worker-env';

const profileOf = (line: CeleryConfig['celeryLine']): CeleryProfileName => `celery-${line}`;

/** Options of {@link Worker}. */
export interface WorkerOptions {
  broker: Broker;
  /** `null` = results disabled. */
  backend: ResultBackend | null;
  config?: Partial<CeleryConfig>;
  tasks: TaskRegistry | Iterable<TaskDefinition>;
  /** `-Q`; default `[task_default_queue]`. */
  queues?: readonly string[];
  /** `-c`: tasks run at the same time (default 1; async handlers interleave). */
  concurrency?: number;
  /** `-n` template (`%h`, `%n`, `%d`); default `celery@%h`. */
  hostname?: string;
  /** `-E` / `worker_send_task_events`. */
  sendEvents?: boolean;
  /** Consume the pidbox (remote control); default true when the broker supports fanout. */
  enableControl?: boolean;
  /** `broker_url` transport; decides the `celeryev` exchange type. Guessed from the broker. */
  transport?: 'redis' | 'amqp';
  logger?: WorkerLogger;
  /** Wall clock in ms (default `Date.now`). */
  now?: () => number;
  heartbeatInterval?: number;
  /**
   * `broker_connection_retry_on_startup` (default true): retry the first connection, logging
   * each failure in Celery's words, instead of failing at once.
   */
  connectionRetryOnStartup?: boolean;
  /** `broker_connection_max_retries` (default 100; `null` = forever). */
  connectionMaxRetries?: number | null;
  /** `-P`; default `config.workerPool` (`solo`). `prefork` needs {@link appModule}. */
  pool?: 'prefork' | 'solo' | 'threads';
  /** Path of the app module, loaded by each pool thread to find the handlers (`-A`). */
  appModule?: string;
  /** Tracing/metrics hooks around each run and on each task event (`src/telemetry`). */
  instrumentation?: WorkerInstrumentation;
}

const consoleLogger: WorkerLogger = {
  log: (level, msg) => {
    const line = `[${new Date().toISOString()}: ${level.toUpperCase()}] ${msg}\n`;
    if (level === 'error' || level === 'warn') process.stderr.write(line);
    else process.stdout.write(line);
  },
};

/**
 * A Celery worker in Node (`celery worker`): consumes task queues, runs registered TypeScript
 * tasks with Celery's acknowledgement, retry, time-limit, rate-limit, ETA and revoke semantics,
 * stores results through a {@link ResultBackend}, sends events and answers remote control.
 *
 * Split as Celery splits its worker: {@link TaskConsumer} (the consumer's task step),
 * {@link TaskStrategy} (`on_task_received`), {@link Pool} (requests keyed by delivery), the ack
 * policy, and the control views over one {@link WorkerState}.
 */
export class Worker {
  readonly config: CeleryConfig;
  readonly registry: TaskRegistry;
  readonly hostname: string;
  readonly state: WorkerState;
  readonly clock = new LamportClock();
  readonly events: EventDispatcher;
  private readonly sentEvents: WorkerSentEvents;
  /** Broker transport kind (decides the `celeryev` exchange type). */
  readonly transport: 'redis' | 'amqp';
  readonly pool: Pool;
  private readonly strategy: TaskStrategy;
  private readonly consumer: TaskConsumer;
  private readonly env: WorkerEnv;
  private readonly eventSender: BoundedEventSender;
  /** Task events on (`-E`, `enable_events`); the dispatcher itself stays on for worker events. */
  private taskEvents: boolean;
  private readonly heart: Heart;
  private readonly logger: WorkerLogger;
  private pidbox: PidboxNode | undefined;
  private unsubscribeStatus: (() => void) | undefined;
  private stopping: Promise<void> | undefined;
  private cold = false;
  private prefetchExtra = 0;
  private shutdownWaiters: (() => void)[] = [];

  constructor(readonly opts: WorkerOptions) {
    this.config = resolveConfig(opts.config ?? {});
    this.registry = opts.tasks instanceof TaskRegistry ? opts.tasks : new TaskRegistry(opts.tasks);
    // Celery registers its built-in canvas helpers in every app; user tasks of the same name win.
    const chordHost = workerCanvasHost({
      config: this.config,
      oid: '',
      publish: (input, target) => this.publishTask(input, target),
      backend: opts.backend,
    });
    const withBackend = (): ProgressionHost | null =>
      chordHost.backend ? { ...chordHost, backend: chordHost.backend } : null;
    const chord = { host: withBackend, retryInterval: this.config.resultChordRetryInterval ?? 1 };
    for (const b of builtinTasks(this.registry, chord)) {
      if (this.registry.get(b.name) === undefined) this.registry.register(b);
    }
    this.hostname = workerNodename(opts.hostname ?? 'celery@%h', osHostname());
    const now = opts.now ?? Date.now;
    const transport =
      opts.transport ??
      (opts.broker.capabilities.priorityOrder === 'lower-first' ? 'redis' : 'amqp');
    this.transport = transport;
    const logger = opts.logger ?? consoleLogger;
    this.logger = logger;
    // `app.amqp.queues[name]`: exchange, type and arguments as Celery's worker declares them.
    const queues: QueueSpec[] = (opts.queues ?? [this.config.taskDefaultQueue]).map((name) =>
      queueSpec(name, this.config),
    );
    this.state = new WorkerState(
      this.hostname,
      this.registry,
      this.config,
      queues,
      Math.max(1, opts.concurrency ?? 1),
      now(),
    );
    this.events = new EventDispatcher({
      broker: opts.broker,
      hostname: this.hostname,
      pid: process.pid,
      clock: this.clock,
      now,
      transport,
      exchange: this.config.eventExchange,
      // The cluster's line decides the event bytes (utcoffset float/int, JSON dialect).
      profile: profileOf(this.config.celeryLine),
      jsonDialect: this.config.jsonDialect,
      enabled: opts.sendEvents ?? false,
      // `celery/worker/consumer/events.py`, `Events.start`: task events are buffered and sent
      // as `task.multi` lists (flushed on the next loop turn, or at 24) by a worker with an
      // event loop — every redis/amqp worker.
      bufferGroup: ['task'],
      onError: (e) => {
        logger.log('warn', `event not sent: ${e.message}`);
      },
    });
    this.sentEvents = new WorkerSentEvents({
      broker: opts.broker,
      clock: this.clock,
      config: this.config,
      transport,
      now,
      log: (l, m) => {
        logger.log(l, m);
      },
    });
    this.taskEvents = opts.sendEvents ?? false;
    this.eventSender = new BoundedEventSender(this.events, (l, m) => {
      logger.log(l, m);
    });
    this.env = {
      state: this.state,
      backend: opts.backend,
      config: this.config,
      now,
      log: (level, msg) => {
        logger.log(level, msg);
      },
      sendEvent: (type, fields, req) => {
        if (req) opts.instrumentation?.event?.(type, fields, req);
        if (req?.def.options.sendEvents === false) return;
        if (!this.taskEvents && type.startsWith('task-')) return;
        this.eventSender.send(type, fields);
      },
      publish: (input, target) => this.publishTask(input, target),
      instrumentation: opts.instrumentation,
    };
    const threads = createThreadPool(this.registry, this.config, opts, logger);
    this.pool = new Pool(
      this.env,
      (delta) => {
        this.qos(delta);
      },
      threads,
    );
    threads?.scaler?.start({
      qty: () => this.state.reserved.size + this.state.active.size,
      updatePrefetch: (diff) => {
        this.qos(diff * this.config.workerPrefetchMultiplier);
      },
      log: (l, m) => {
        logger.log(l === 'debug' ? 'debug' : l === 'info' ? 'info' : 'error', m);
      },
    });
    this.strategy = new TaskStrategy(this.env, this.pool);
    this.consumer = new TaskConsumer({
      broker: opts.broker,
      env: this.env,
      onDelivery: (d) => this.strategy.onDelivery(d),
      onReset: (reason) => {
        this.onConsumerReset(reason);
      },
      prefetch: () => this.currentPrefetch(),
      qos: () => qosMode(this.config, this.state.queues, this.transport),
    });
    this.heart = new Heart(
      this.events,
      { active: () => this.state.active.size, processed: () => this.state.processed() },
      opts.heartbeatInterval ?? 2.0,
    );
  }

  get counters(): WorkerCounters {
    return this.state.counters;
  }

  get revoked(): RevokedSet {
    return this.state.revoked;
  }

  get queues(): readonly QueueSpec[] {
    return this.state.queues;
  }

  log(level: LogLevel, msg: string): void {
    this.logger.log(level, msg);
  }

  /** `worker_concurrency × worker_prefetch_multiplier`; 0 = unlimited. */
  basePrefetch(): number {
    return this.state.concurrency * this.config.workerPrefetchMultiplier;
  }

  currentPrefetch(): number {
    const base = this.basePrefetch();
    return base === 0 ? 0 : base + this.prefetchExtra;
  }

  /** `consumer.qos.increment_eventually` / `decrement_eventually`. */
  private qos(delta: number): void {
    this.prefetchExtra += delta;
    if (this.basePrefetch() === 0) return;
    this.consumer.setPrefetch(this.currentPrefetch()).catch((e: unknown) => {
      this.log('warn', `basic_qos: ${String(e)}`);
    });
  }

  /** `Consumer.on_close` for one consumer session: drop what went back to the broker. */
  private onConsumerReset(reason: Error): void {
    const dropped = this.pool.dropVoid();
    this.log(
      'warn',
      `consumer: the broker took back unacked messages (${reason.message}); ${String(dropped)} reserved/scheduled requests dropped, their redelivered copies will run`,
    );
  }

  /** Publish a task message (retries, callbacks) with this worker as the sender. */
  async publishTask(input: TaskInput, target: PublishTarget): Promise<void> {
    const env = {
      now: new Date((this.opts.now ?? Date.now)()),
      origin: anonNodename(),
      replyTo: '',
    };
    const message = encodeTaskMessage(input, env);
    await this.opts.broker.publish(message, target);
    await this.sentEvents.sent(input, env, target);
  }

  /** Connect (retried as `broker_connection_retry_on_startup`), consume, control, heartbeats. */
  async start(): Promise<void> {
    const broker = this.opts.broker;
    const maxRetries =
      this.opts.connectionMaxRetries === undefined ? 100 : this.opts.connectionMaxRetries;
    this.unsubscribeStatus = broker.onStatus((s) => {
      const line = brokerStatusLine(s, maxRetries);
      if (line) this.log(line.level, line.msg);
    });
    await connectWithRetry(broker, {
      retry: this.opts.connectionRetryOnStartup ?? true,
      maxRetries,
      target: this.config.brokerUrl,
      log: (level, msg) => {
        this.log(level, msg);
      },
      isStopping: () => this.stopping !== undefined,
    });
    await this.pool.threads?.start();
    await this.consumer.start();
    await setupDelayedDelivery(broker, this.config, this.state.queues, (l, m) => {
      this.log(l, m);
    });
    if ((this.opts.enableControl ?? true) && isFanoutBroker(broker)) {
      const control = new WorkerControl(this.state, this.actions());
      this.pidbox = new PidboxNode({
        broker,
        hostname: this.hostname,
        clock: this.clock,
        handlers: controlHandlers(control, profileOf(this.config.celeryLine)),
        // The mailbox serializes replies with task_serializer (Celery ≥5.1) in the line's dialect.
        ...mailboxSerialization(getProfile(profileOf(this.config.celeryLine)), this.config),
        jsonDialect: this.config.jsonDialect,
        namespace: this.config.controlExchange,
        queueExclusive:
          getProfile(profileOf(this.config.celeryLine)).exclusiveControlQueues === true,
        onError: (e) => {
          this.log('warn', `pidbox: ${e.message}`);
        },
      });
      await this.pidbox.start();
    }
    if (this.events.enabled) await this.heart.start();
    this.log(
      'info',
      `${this.hostname} ready: queues ${this.state.queues.map((q) => q.name).join(', ')}; tasks ${this.registry.names().join(', ')}`,
    );
  }

  private actions(): WorkerActions {
    return {
      backend: this.opts.backend,
      transport: this.transport,
      clock: this.clock,
      log: (l, m) => {
        this.log(l, m);
      },
      uptime: () => this.uptime(),
      prefetchCount: () => this.currentPrefetch(),
      terminate: (ids) => this.pool.terminate(ids),
      resetRateLimit: (name, rate) => {
        this.pool.setRateLimit(name, rate);
      },
      setEvents: (enabled) => {
        // `disable_events` drops the dispatcher's 'task' group only: worker-heartbeat keeps
        // going (Flower would otherwise mark the worker offline).
        this.taskEvents = enabled;
        if (enabled) this.events.enabled = true;
      },
      heartbeat: () => this.heart.beatNow(),
      shutdown: () => {
        this.requestShutdown();
      },
      addQueue: (spec) => this.consumer.addQueue(spec),
      cancelQueue: (name) => this.consumer.cancelQueue(name),
      eventsEnabled: () => this.events.enabled && this.taskEvents,
      ...(this.pool.threads ? { pool: this.pool.threads } : {}),
      autoscaling: () => this.autoscaling,
      autoscalerInfo: () => this.pool.threads?.scaler?.info() ?? {},
      poolRestarts: this.config.workerPoolRestarts ?? false,
      updatePrefetch: (delta) => {
        this.qos(delta * this.config.workerPrefetchMultiplier);
      },
    };
  }

  /**
   * What `pool_grow`/`pool_shrink`/`autoscale`/`pool_restart` and `stats.pool` act on: the
   * thread pool (`-P prefork`); null in-process, where Celery's solo pool has none of them.
   */
  get poolControl(): PoolControl | null {
    return this.pool.threads;
  }

  /** `--autoscale` is on (`state.consumer.controller.autoscaler`). */
  get autoscaling(): boolean {
    return this.pool.threads?.scaler != null;
  }

  /** Seconds since start (`stats.uptime`). */
  uptime(): number {
    return Math.round(((this.opts.now ?? Date.now)() - this.state.startedAt) / 1000);
  }

  /** Add a queue to consume (`add_consumer`) on the running consumer. */
  addQueue(spec: QueueSpec): Promise<void> {
    return this.consumer.addQueue(spec);
  }

  /** Stop consuming a queue (`cancel_consumer`); held deliveries stay valid. */
  removeQueue(name: string): Promise<void> {
    return this.consumer.cancelQueue(name);
  }

  /**
   * Warm shutdown (`cold: false`): stop taking work, let running tasks finish and ack, then
   * close the consumer, which gives prefetched and ETA-held messages back (Redis RPUSH of the
   * unacked entries, AMQP requeue on channel close). Cold: do not wait for running tasks; their
   * acks_late messages are given back the same way.
   */
  shutdown(opts: { cold?: boolean } = {}): Promise<void> {
    if (opts.cold === true) {
      this.cold = true;
      this.pool.abortRunning();
    }
    this.stopping ??= this.doShutdown();
    return this.stopping;
  }

  /** Resolves when a shutdown was requested (e.g. by the `shutdown` control command). */
  whenShutdownRequested(): Promise<void> {
    return new Promise((resolve) => this.shutdownWaiters.push(resolve));
  }

  /** Ask the process owner to shut down (control command); the CLI waits for this. */
  requestShutdown(): void {
    for (const w of this.shutdownWaiters.splice(0)) w();
  }

  private async doShutdown(): Promise<void> {
    this.state.shuttingDown = true;
    await this.pidbox?.stop().catch(() => undefined);
    if (!this.cold) await this.pool.drain(() => this.cold);
    this.pool.releaseHeld();
    await this.consumer.cancel().catch((e: unknown) => {
      this.log('error', `restoring unacked messages: ${String(e)}`);
    });
    await this.pool.threads?.close();
    // Task events still buffered for their `task.multi` batch go out before worker-offline.
    await this.events.flush();
    if (this.events.enabled) await this.heart.stop();
    this.unsubscribeStatus?.();
    await this.opts.broker.close().catch(() => undefined);
    await this.opts.backend?.close().catch(() => undefined);
  }

  /** Snapshot of the counters, for monitoring. */
  stats(): Record<string, PyValue> {
    const c = this.state.counters;
    return { ...c, total: { ...c.total }, eventsDropped: this.eventSender.dropped };
  }
}
