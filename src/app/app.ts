import { getProfile } from '../protocol/profiles';
import { mailboxSerialization } from '../protocol/mailbox-serialization';
import { randomUUID } from 'node:crypto';
import type { ResultBackend } from '../backends/backend';
import type { Broker } from '../brokers/broker';
import type { ApplyOptions } from '../client/apply-options';
import type { AsyncResult, RevokeOptions } from '../client/async-result';
import { CeleryClient } from '../client/client';
import { TaskHandle, type TaskDefaults } from '../client/task-handle';
import type { PyValue } from '../serialization/py-values';
import { anonNodename } from '../util/hostname';
import { resolveConfig, type CeleryConfig } from '../config/config';
import { createBackend, createBroker, profileOf } from './factories';
import type { CanvasResult } from '../canvas/results';
import type { OptValue, Signature } from '../canvas/signature';
import { applySignatureEagerly } from '../eager/canvas';
import { applyEagerly, type EagerHost } from '../eager/run-task';
import { TaskRegistry, type TaskDefinition } from '../worker/task';
import { Worker, type WorkerOptions } from '../worker/worker';
import { workerConnections } from './worker-connections';
import { sentEventPublisher } from './sent-events';
import { setupAppSecurity, wantsSecurity, type SetupSecurityOptions } from './security';
import { Control } from '../control/control-api';
import { MailboxClient } from '../control/mailbox-client';
import { EventReceiver, type EventReceiverOptions } from '../events/receiver';
import { composeInstrumentation, type Instrumentation } from '../telemetry/instrumentation';
import { instrumentBroker } from '../telemetry/instrument-broker';

/** Options of {@link CeleryApp.worker}: the worker's own, with the app's config and tasks. */
export type AppWorkerOptions = Omit<WorkerOptions, 'broker' | 'backend' | 'config' | 'tasks'> & {
  /** The tasks to serve (default: `app.tasks`). */
  tasks?: WorkerOptions['tasks'];
  /** Redis `visibility_timeout` override (`--visibility-timeout`). */
  visibilityTimeout?: number;
};

/** Options of {@link createApp}: Celery settings (camelCase) plus injectable process state. */
export interface AppOptions extends Omit<Partial<CeleryConfig>, 'brokerUrl'> {
  /** `broker_url`: one URL, a `;`-separated failover list, or a list of URLs (failover order). */
  brokerUrl?: string | readonly string[];
  /** Environment read for `CELERY_BROKER_URL` / `CELERY_RESULT_BACKEND` (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Reply queue / client oid (default: a uuid4, as kombu's `oid_from` is uuid3-shaped). */
  oid?: string;
  /** `origin` header (default `gen<pid>@<hostname>`). */
  origin?: string;
  now?: () => Date;
  uuid?: () => string;
  /** Use these instead of building from the URLs (tests, sharing connections). */
  broker?: Broker;
  backend?: ResultBackend;
  /** Tasks of this app (`@app.task`): what eager mode runs in process, by name. */
  tasks?: Iterable<TaskDefinition>;
  /** Tracing/metrics (`otelInstrumentation()`, `prometheusInstrumentation()`), for clients and workers. */
  instrumentation?: Instrumentation | readonly Instrumentation[];
}

/**
 * A Celery app for clients (Celery's `Celery(...)` object): configuration, a lazily connected
 * broker and result backend, and the client oid (`app.thread_oid`) used as `reply_to`.
 */
export class CeleryApp {
  readonly config: CeleryConfig;
  readonly oid: string;
  readonly client: CeleryClient;
  /** `app.tasks`: the registered TypeScript tasks (stand-ins for Python tasks in tests). */
  readonly tasks: TaskRegistry;
  private brokerInstance: Broker | undefined;
  private backendInstance: ResultBackend | undefined;
  private connecting: Promise<Broker> | undefined;
  private closing: Promise<void> | undefined;
  private controlInstance: Control | undefined;
  private readonly instrumentation: Instrumentation | undefined;

  constructor(options: AppOptions = {}) {
    const { env, oid, origin, now, uuid, broker, backend, tasks, instrumentation, ...settings } =
      options;
    this.instrumentation = Array.isArray(instrumentation)
      ? composeInstrumentation(instrumentation)
      : (instrumentation as Instrumentation | undefined);
    this.tasks = new TaskRegistry(tasks ?? []);
    this.config = resolveConfig(settings, env ?? process.env);
    this.oid = oid ?? randomUUID();
    this.brokerInstance = broker;
    this.backendInstance = backend;
    this.client = new CeleryClient({
      settings: this.config,
      profile: profileOf(this.config.celeryLine),
      env: {
        now: now ?? (() => new Date()),
        uuid: uuid ?? randomUUID,
        origin: origin ?? anonNodename(),
        oid: this.oid,
      },
      broker: () => this.broker(),
      backend: () => this.backend(),
      ...(this.config.taskSendSentEvent
        ? {
            sentEvent: sentEventPublisher(
              this.config,
              () => this.broker(),
              origin ?? anonNodename(),
            ),
          }
        : {}),
    });
    // `taskSerializer: 'auth'` with a key in the config: as if the app called setup_security().
    if (wantsSecurity(this.config)) this.setupSecurity();
  }

  /**
   * `app.setup_security(...)`: sign every message this process sends with `auth` and verify every
   * `auth` message it receives (`security_key`, `security_certificate`, `security_cert_store`,
   * `security_digest`); needs `taskSerializer: 'auth'` and `acceptContent: ['auth']`.
   */
  setupSecurity(opts: SetupSecurityOptions = {}): void {
    setupAppSecurity(this.config, opts);
  }

  /** The broker, connected on first use. */
  broker(): Promise<Broker> {
    if (this.closing) return Promise.reject(new Error('app is closed'));
    this.connecting ??= (async () => {
      this.brokerInstance ??= createBroker(this.config);
      await this.brokerInstance.connect();
      return this.instrumentation
        ? instrumentBroker(this.brokerInstance, this.instrumentation)
        : this.brokerInstance;
    })().catch((e: unknown) => {
      this.connecting = undefined;
      throw e;
    });
    return this.connecting;
  }

  /** The result backend (`app.backend`), created on first use. */
  async backend(): Promise<ResultBackend> {
    if (this.backendInstance) return this.backendInstance;
    const broker = await this.broker();
    this.backendInstance ??= createBackend(this.config, broker, this.oid);
    return this.backendInstance;
  }

  /** Register a task (`@app.task`); returns it. */
  register(def: TaskDefinition): TaskDefinition {
    this.tasks.register(def);
    return def;
  }

  /**
   * `app.send_task(name, args, kwargs, **options)`. With `taskAlwaysEager` the registered task of
   * that name runs in process instead (`Task.apply`, an `EagerResult`); unlike Celery's
   * `send_task`, which ignores the setting, because a Node app calls Python tasks by name only.
   */
  sendTask<R = PyValue>(name: string, opts: ApplyOptions = {}): Promise<AsyncResult<R>> {
    if (this.config.taskAlwaysEager) return applyEagerly<R>(this.eagerHost(), name, opts);
    return this.client.sendTask<R>(name, opts);
  }

  private eagerHost(): EagerHost {
    return {
      config: this.config,
      registry: this.tasks,
      client: this.client,
      backend: () => this.backend(),
    };
  }

  /** Canvas under `taskAlwaysEager` (`sig.apply()`); `null` when the app is not eager. */
  applyEagerly(
    sig: Signature,
    args: readonly PyValue[],
    kwargs: Readonly<Record<string, PyValue>>,
    options: Readonly<Record<string, OptValue>>,
  ): Promise<CanvasResult> | null {
    if (!this.config.taskAlwaysEager) return null;
    return applySignatureEagerly(this.eagerHost(), sig, args, kwargs, options);
  }

  /** A typed handle on a (Python) task: `.delay()`, `.applyAsync()`, `.s()`. */
  task<A extends PyValue[] = PyValue[], R = PyValue>(
    name: string,
    defaults: TaskDefaults = {},
  ): TaskHandle<A, R> {
    const withPriority: TaskDefaults =
      defaults.priority === undefined && this.config.taskDefaultPriority !== null
        ? { ...defaults, priority: this.config.taskDefaultPriority }
        : defaults;
    return new TaskHandle<A, R>(name, this, withPriority);
  }

  /** `app.AsyncResult(id)`. */
  asyncResult<R = PyValue>(id: string): AsyncResult<R> {
    return this.client.asyncResult<R>(id);
  }

  /** `app.control.revoke(task_id, terminate=…, signal=…)`. */
  revoke(taskId: string | readonly string[], opts: RevokeOptions = {}): Promise<void> {
    return this.client.revoke(typeof taskId === 'string' ? [taskId] : taskId, opts);
  }

  /**
   * `app.events.Receiver(conn, handlers={'*': …}).capture()`: a started {@link EventReceiver}
   * (EventEmitter + async iterator, with Celery's `State` in `.state`) on this app's broker.
   */
  async eventReceiver(
    opts: Omit<EventReceiverOptions, 'broker' | 'transport'> = {},
  ): Promise<EventReceiver> {
    const r = new EventReceiver({
      exchange: this.config.eventExchange,
      accept: this.config.acceptContent,
      // `event_queue_exclusive`: True by default in Celery 5.7, False before.
      exclusive: getProfile(`celery-${this.config.celeryLine}`).exclusiveControlQueues === true,
      ...opts,
      broker: await this.broker(),
      transport: /^rediss?:|^sentinel:/.test(this.config.brokerUrl) ? 'redis' : 'amqp',
    });
    await r.start();
    return r;
  }

  /**
   * `app.control`: broadcast remote-control commands and `inspect()` workers, Python and
   * TypeScript alike (`celery/app/control.py`, `Control`; replies collected as kombu's
   * `Mailbox` does, on this app's oid).
   */
  get control(): Control {
    this.controlInstance ??= new Control(
      new MailboxClient({
        broker: () => this.broker(),
        oid: this.oid,
        controlExchange: this.config.controlExchange,
        ...mailboxSerialization(getProfile(`celery-${this.config.celeryLine}`), this.config),
        jsonDialect: this.config.jsonDialect,
        // `control_queue_exclusive`: True by default in Celery 5.7, False before.
        exclusive: getProfile(`celery-${this.config.celeryLine}`).exclusiveControlQueues === true,
        now: Date.now,
        uuid: randomUUID,
      }),
    );
    return this.controlInstance;
  }

  /**
   * `celery worker`, programmatically: a {@link Worker} on its own broker connection and result
   * backend, built from this app's config (the composition root builds both), serving
   * `app.tasks`. `await w.start()`; `await w.shutdown()`. The CLI worker is built this way.
   */
  worker(opts: AppWorkerOptions = {}): Worker {
    const { tasks, visibilityTimeout, ...rest } = opts;
    const { broker, backend, transport } = workerConnections(this.config, visibilityTimeout);
    return new Worker({
      transport,
      connectionRetryOnStartup: this.config.brokerConnectionRetryOnStartup,
      connectionMaxRetries: this.config.brokerConnectionMaxRetries,
      ...rest,
      broker: this.instrumentation ? instrumentBroker(broker, this.instrumentation) : broker,
      ...(this.instrumentation ? { instrumentation: this.instrumentation } : {}),
      backend,
      config: this.config,
      tasks: tasks ?? this.tasks,
    });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      const errors: unknown[] = [];
      await this.controlInstance?.close().catch((e: unknown) => errors.push(e));
      if (this.backendInstance)
        await this.backendInstance.close().catch((e: unknown) => errors.push(e));
      if (this.brokerInstance)
        await this.brokerInstance.close().catch((e: unknown) => errors.push(e));
      if (errors.length > 0)
        throw errors[0] instanceof Error ? errors[0] : new Error(String(errors[0]));
    })();
    return this.closing;
  }
}

/** `Celery(...)`: a client app; nothing connects until the first call. */
export function createApp(options: AppOptions = {}): CeleryApp {
  return new CeleryApp(options);
}
