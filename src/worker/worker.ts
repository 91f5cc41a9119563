import { hostname as osHostname } from 'node:os';
import { resolveConfig, type CeleryConfig } from '../config/config';
import type { ResultBackend } from '../backends/backend';
import type { Broker, Consumer, Delivery, QueueSpec } from '../brokers/broker';
import { isFanoutBroker } from '../brokers/fanout';
import { controlHandlers } from '../control/commands';
import { PidboxNode } from '../control/pidbox';
import { LamportClock } from '../events/clock';
import { EventDispatcher } from '../events/dispatcher';
import { Heart } from '../events/heartbeat';
import { encodeTaskMessage, type TaskInput } from '../protocol/task-message';
import type { PublishTarget } from '../brokers/broker';
import type { PyValue } from '../serialization/py-values';
import { anonNodename, workerNodename } from '../util/hostname';
import { WorkerControl } from './control-target';
import { Dispatcher, type WorkerLogger } from './dispatch';
import { RevokedSet, newCounters, type WorkerCounters } from './state';
import { workerCanvasHost } from '../canvas/worker-host';
import type { ProgressionHost } from '../canvas/progression';
import { builtinTasks } from './builtins';
import { TaskRegistry, type TaskDefinition } from './task';

export type { WorkerLogger } from './dispatch';

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
 */
export class Worker {
  readonly config: CeleryConfig;
  readonly registry: TaskRegistry;
  readonly hostname: string;
  readonly counters: WorkerCounters = newCounters();
  readonly revoked = new RevokedSet();
  readonly clock = new LamportClock();
  readonly events: EventDispatcher;
  readonly queues: QueueSpec[];
  readonly dispatcher: Dispatcher;
  /** Broker transport kind (decides the `celeryev` exchange type). */
  readonly transport: 'redis' | 'amqp';
  private readonly heart: Heart;
  private pidbox: PidboxNode | undefined;
  private consumer: Consumer | undefined;
  private readonly startedAt: number;
  private stopping: Promise<void> | undefined;
  private cold = false;
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
    this.startedAt = now();
    const transport =
      opts.transport ??
      (opts.broker.capabilities.priorityOrder === 'lower-first' ? 'redis' : 'amqp');
    this.transport = transport;
    const logger = opts.logger ?? consoleLogger;
    this.events = new EventDispatcher({
      broker: opts.broker,
      hostname: this.hostname,
      pid: process.pid,
      clock: this.clock,
      now,
      transport,
      exchange: this.config.eventExchange,
      enabled: opts.sendEvents ?? false,
      onError: (e) => {
        logger.log('warn', `event not sent: ${e.message}`);
      },
    });
    this.queues = (opts.queues ?? [this.config.taskDefaultQueue]).map((name) => ({
      name,
      exchange: name,
      exchangeType: 'direct',
      routingKey: name,
    }));
    const concurrency = Math.max(1, opts.concurrency ?? 1);
    this.dispatcher = new Dispatcher({
      worker: this,
      backend: opts.backend,
      config: this.config,
      concurrency,
      now,
      logger,
      publish: (input, target) => this.publishTask(input, target),
      setPrefetch: (n) => this.consumer?.setPrefetch?.(n) ?? Promise.resolve(),
    });
    this.heart = new Heart(
      this.events,
      {
        active: () => this.dispatcher.activeCount(),
        processed: () => Object.values(this.counters.total).reduce((a, b) => a + b, 0),
      },
      opts.heartbeatInterval ?? 2.0,
    );
  }

  /** Publish a task message (retries, callbacks) with this worker as the sender. */
  async publishTask(input: TaskInput, target: PublishTarget): Promise<void> {
    const message = encodeTaskMessage(input, {
      now: new Date((this.opts.now ?? Date.now)()),
      origin: anonNodename(),
      replyTo: '',
    });
    await this.opts.broker.publish(message, target);
  }

  /** Connect, declare queues, start consuming, then control and heartbeats. */
  async start(): Promise<void> {
    const broker = this.opts.broker;
    await broker.connect();
    for (const q of this.queues) await broker.declareQueue(q);
    this.consumer = await broker.consume(
      this.queues.map((q) => q.name),
      (d) => this.dispatcher.onDelivery(d),
      {
        prefetch: this.dispatcher.basePrefetch(),
        onError: (e) => {
          this.dispatcher.log('error', `consumer: ${e.message}`);
        },
      },
    );
    if ((this.opts.enableControl ?? true) && isFanoutBroker(broker)) {
      const control = new WorkerControl(this);
      this.pidbox = new PidboxNode({
        broker,
        hostname: this.hostname,
        clock: this.clock,
        handlers: controlHandlers(control),
        namespace: this.config.controlExchange,
        accept: this.config.acceptContent,
        onError: (e) => {
          this.dispatcher.log('warn', `pidbox: ${e.message}`);
        },
      });
      await this.pidbox.start();
    }
    if (this.events.enabled) await this.heart.start();
    this.dispatcher.log(
      'info',
      `${this.hostname} ready: queues ${this.queues.map((q) => q.name).join(', ')}; tasks ${this.registry.names().join(', ')}`,
    );
  }

  /** Seconds since start (`stats.uptime`). */
  uptime(): number {
    return Math.round(((this.opts.now ?? Date.now)() - this.startedAt) / 1000);
  }

  /** The `heartbeat` control command. */
  heartbeatNow(): Promise<void> {
    return this.heart.beatNow();
  }

  /** Add a queue to consume (`add_consumer`). Restarts the task consumer with the new set. */
  async addQueue(spec: QueueSpec): Promise<void> {
    if (this.queues.some((q) => q.name === spec.name)) return;
    await this.opts.broker.declareQueue(spec);
    this.queues.push(spec);
    await this.restartConsumer();
  }

  /** Stop consuming a queue (`cancel_consumer`). */
  async removeQueue(name: string): Promise<void> {
    const i = this.queues.findIndex((q) => q.name === name);
    if (i < 0) return;
    this.queues.splice(i, 1);
    await this.restartConsumer();
  }

  private async restartConsumer(): Promise<void> {
    const old = this.consumer;
    this.consumer = await this.opts.broker.consume(
      this.queues.map((q) => q.name),
      (d: Delivery) => this.dispatcher.onDelivery(d),
      { prefetch: this.dispatcher.currentPrefetch() },
    );
    await old?.cancel();
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
      this.dispatcher.abortRunning();
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
    this.dispatcher.stopAccepting();
    await this.pidbox?.stop().catch(() => undefined);
    if (!this.cold) await this.dispatcher.drain(() => this.cold);
    this.dispatcher.releaseHeld();
    await this.consumer?.cancel().catch((e: unknown) => {
      this.dispatcher.log('error', `restoring unacked messages: ${String(e)}`);
    });
    if (this.events.enabled) await this.heart.stop();
    await this.opts.broker.close().catch(() => undefined);
    await this.opts.backend?.close().catch(() => undefined);
  }

  /** Snapshot of the counters, for monitoring. */
  stats(): Record<string, PyValue> {
    return { ...this.counters, total: { ...this.counters.total } };
  }
}
