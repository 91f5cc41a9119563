import type { ResultBackend } from '../backends/backend';
import type { Broker, PublishItem, QueueSpec } from '../brokers/broker';
import { isFanoutBroker } from '../brokers/fanout';
import { controlRequestMessage, pidboxExchange } from '../protocol/control';
import type { CeleryProfileName } from '../protocol/profiles';
import type { RawMessage } from '../protocol/raw-message';
import { encodeTaskMessage } from '../protocol/task-message';
import type { JsonDialect } from '../serialization/python-json';
import { toTaskInput, type ApplyOptions } from './apply-options';
import { AsyncResult, type ResultHost, type RevokeOptions } from './async-result';
import { routeTask, type RoutingSettings } from '../protocol/route';
import { nativeDelayTarget } from './native-delay';
import { PublishBatcher } from './publish-batcher';
import { addTrail, inheritFromParent } from './current-task';
import { resultTuple } from '../protocol/result-meta';
import { taskSentFields } from '../protocol/task-sent';
import type { PyValue } from '../serialization/py-values';

/** The configuration a client reads (a structural subset of the app's `CeleryConfig`). */
export interface ClientSettings extends RoutingSettings {
  taskSerializer: string;
  taskCompression: string | null;
  taskProtocol: 1 | 2;
  taskDefaultDeliveryMode: 1 | 2;
  jsonDialect: JsonDialect;
  controlExchange: string;
  /** Decides whether native delayed delivery applies (AMQP only). */
  brokerUrl?: string;
  /** `task_inherit_parent_priority` (default false). */
  taskInheritParentPriority?: boolean;
  /** `task_send_sent_event` (default false): a `task-sent` event after each publish. */
  taskSendSentEvent?: boolean;
}

/** Process state a client needs, injected: Celery's `app.now()`, `uuid()`, origin and oid. */
export interface ClientEnv {
  now(): Date;
  uuid(): string;
  /** `gen<pid>@<host>` (`anon_nodename`). */
  origin: string;
  /** The reply queue name (`app.thread_oid`). */
  oid: string;
}

/** What the client is wired to. */
export interface ClientDeps {
  settings: ClientSettings;
  profile: CeleryProfileName;
  env: ClientEnv;
  /** The connected broker. */
  broker(): Promise<Broker>;
  /** The result backend. */
  backend(): Promise<ResultBackend>;
  /**
   * Publish one `task-sent` event with these fields (`EventDispatcher.publish`; the app wires
   * it). Best-effort, as Celery's: a failure is reported by the dispatcher, never thrown.
   */
  sentEvent?: (fields: Record<string, PyValue>) => Promise<void>;
}

/** A built message and where it goes. */
export interface PreparedTask {
  id: string;
  ignoreResult: boolean;
  item: PublishItem;
  /** `task-sent` event fields when `task_send_sent_event` is on. */
  sent: Record<string, PyValue> | null;
}

/**
 * For a broker that cannot declare a bare exchange (no {@link FanoutBroker}, e.g. SQS): a sink
 * queue that keeps `celery.pidbox` declared; it holds nothing (`x-max-length: 0`) and disappears
 * when unused (`x-expires`). AMQP and Redis declare the exchange alone, as kombu does.
 */
function pidboxSink(controlExchange: string): QueueSpec {
  return {
    name: `celery-wire.${pidboxExchange(controlExchange)}.sink`,
    exchange: pidboxExchange(controlExchange),
    exchangeType: 'fanout',
    exchangeDurable: false,
    routingKey: '',
    durable: false,
    arguments: { 'x-max-length': 0, 'x-expires': 600_000 },
  };
}

/**
 * Identity of a queue declaration. Routing builds a fresh spec per call, and a JSON key cost more
 * than the rest of a send; the common spec (no arguments) gets a plain string.
 */
function specKey(q: QueueSpec): string {
  const keys = Object.keys(q);
  const plain =
    keys.length <= 4 &&
    keys.every(
      (k) => k === 'name' || k === 'exchange' || k === 'exchangeType' || k === 'routingKey',
    );
  if (plain) {
    return `${q.name}\0${q.exchange ?? '\x01'}\0${q.exchangeType ?? '\x01'}\0${q.routingKey ?? '\x01'}`;
  }
  return JSON.stringify(q, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
}

/**
 * "Node calls Python": Celery's `send_task`/`apply_async` (`celery/app/base.py`,
 * `Celery.send_task`; `celery/app/amqp.py`, `send_task_message`) and `Control.revoke`.
 */
export class CeleryClient implements ResultHost {
  /** Lamport clock of control messages (`app.clock`; the first broadcast carries 1). */
  private clock = 0;
  /** Virtual transports: queue bindings this client already wrote (kombu `maybe_declare`). */
  private readonly declared = new Set<string>();
  /** Publishes of one event-loop turn, sent as one batch per exchange. */
  private readonly batcher: PublishBatcher;
  /**
   * Whether the backend reads the stored state when waited on (`readsStoredOnWait`), so that
   * `sendTask` need not subscribe first; learnt from the first backend it gets.
   */
  private lateSubscribe: boolean | undefined;

  constructor(private readonly deps: ClientDeps) {
    this.batcher = new PublishBatcher(
      () => deps.broker(),
      (broker, item) => this.withDeclare(broker, item),
    );
  }

  backend(): Promise<ResultBackend> {
    return this.deps.backend();
  }

  /** Build the message and destination of one call, without sending it. */
  prepare(name: string, given: ApplyOptions = {}): PreparedTask {
    const { settings, env } = this.deps;
    const opts = inheritFromParent(given, settings.taskInheritParentPriority === true);
    const id = opts.taskId ?? env.uuid();
    const args = opts.args ?? [];
    const kwargs = opts.kwargs ?? {};
    const route = routeTask(
      name,
      args,
      kwargs,
      {
        queue: opts.queue,
        exchange: opts.exchange,
        routingKey: opts.routingKey,
        exchangeType: opts.exchangeType,
        priority: opts.priority,
      },
      settings,
    );
    const input = toTaskInput(
      name,
      id,
      opts,
      {
        serializer: settings.taskSerializer,
        compression: settings.taskCompression,
        protocol: settings.taskProtocol,
        deliveryMode: settings.taskDefaultDeliveryMode,
        profile: this.deps.profile,
        jsonDialect: settings.jsonDialect,
      },
      route.priority,
    );
    const encodeEnv = { now: env.now(), origin: env.origin, replyTo: env.oid };
    const message: RawMessage = encodeTaskMessage(input, encodeEnv);
    // Quorum-queue estates: countdown/eta through the delay exchanges, as `send_task` does.
    const delay = nativeDelayTarget(route, opts, settings, this.deps.profile, env.now());
    if (delay.kind === 'warn') console.warn(delay.warning);
    const target =
      delay.kind === 'delay'
        ? delay.target
        : { exchange: route.exchange, routingKey: route.routingKey, queue: route.queue };
    // `task_send_sent_event`: the `task-sent` event `send_task_message` publishes after it.
    const sent =
      settings.taskSendSentEvent === true
        ? taskSentFields(input, encodeEnv, {
            queue: target.queue?.name ?? null,
            exchange: target.exchange,
            routingKey: target.routingKey,
          })
        : null;
    return { id, ignoreResult: opts.ignoreResult === true, item: { message, target }, sent };
  }

  /**
   * Declare-once bookkeeping: AMQP brokers cache declarations per connection themselves (and
   * redo them after a reconnect), so they always get the queue; for the Redis virtual transport
   * the binding lives in Redis, so one SADD per client is enough.
   */
  private withDeclare(broker: Broker, item: PublishItem): PublishItem {
    const q = item.target.queue;
    if (!q || broker.capabilities.publisherConfirms) return item;
    const key = specKey(q);
    if (!this.declared.has(key)) {
      this.declared.add(key);
      return item;
    }
    const { queue: _queue, ...target } = item.target;
    return { ...item, target };
  }

  /**
   * `send_task`: subscribe for the result first (`backend.on_task_call`) unless the result is
   * ignored, then publish; resolves once the broker accepted the message. Calls made in the same
   * turn (a loop, `Promise.all`) go out as one pipeline ({@link PublishBatcher}). With a backend
   * that reads the stored state when waited on (Redis: SUBSCRIBE then GET in `waitForResult`) the
   * subscription is taken by `get()` instead: a result stored before it is still seen, and sends
   * nobody waits on cost no SUBSCRIBE and no pub/sub traffic.
   */
  async sendTask<R = unknown>(name: string, opts: ApplyOptions = {}): Promise<AsyncResult<R>> {
    const p = this.prepare(name, opts);
    if (!p.ignoreResult && this.lateSubscribe !== true) {
      const backend = await this.deps.backend();
      this.lateSubscribe = backend.capabilities.readsStoredOnWait === true;
      if (!this.lateSubscribe) await backend.onTaskCall(p.id);
    }
    await this.batcher.publish(p.item);
    if (p.sent) await this.sentEvent(p.sent);
    if (opts.addToParent !== false) addTrail(resultTuple(p.id));
    return new AsyncResult<R>(p.id, this, p.ignoreResult);
  }

  /**
   * Many `send_task` calls in one pipelined batch (Redis: one pipeline; AMQP: confirms awaited
   * together). Results are not subscribed to: use this for fire-and-forget or bulk loads.
   */
  async sendMany(calls: readonly { name: string; opts?: ApplyOptions }[]): Promise<string[]> {
    const broker = await this.deps.broker();
    const prepared = calls.map((c) => this.prepare(c.name, c.opts));
    await broker.publishMany(prepared.map((p) => this.withDeclare(broker, p.item)));
    for (const p of prepared) if (p.sent) await this.sentEvent(p.sent);
    prepared.forEach((p, i) => {
      if (calls[i]?.opts?.addToParent !== false) addTrail(resultTuple(p.id));
    });
    return prepared.map((p) => p.id);
  }

  /** Publish a `task-sent` event (`task_send_sent_event`) if the app wired a publisher. */
  async sentEvent(fields: Record<string, PyValue>): Promise<void> {
    await this.deps.sentEvent?.(fields);
  }

  /** A handle on an existing task id. */
  asyncResult<R = unknown>(id: string): AsyncResult<R> {
    return new AsyncResult<R>(id, this);
  }

  /**
   * `Control.revoke` (`celery/app/control.py`): a `revoke` broadcast to the fanout
   * `celery.pidbox` exchange, no reply, `timeout=1.0` in the `expires` header; `task_id` is a
   * string for one id and a list for several, as the caller passed it in Python.
   */
  async revoke(taskIds: readonly string[], opts: RevokeOptions = {}): Promise<void> {
    const { settings, env } = this.deps;
    const taskId = taskIds.length === 1 ? (taskIds[0] ?? '') : [...taskIds];
    this.clock += 1;
    const pub = controlRequestMessage(
      {
        method: 'revoke',
        arguments: {
          task_id: taskId,
          terminate: opts.terminate ?? false,
          signal: opts.signal ?? 'SIGTERM',
        },
        destination: null,
        controlExchange: settings.controlExchange,
      },
      {
        clock: this.clock,
        now: env.now().getTime() / 1000,
        timeout: 1.0,
        jsonDialect: settings.jsonDialect,
      },
    );
    const broker = await this.deps.broker();
    if (isFanoutBroker(broker)) {
      // kombu `Mailbox._publish`: `declare=[exchange]` — the fanout `<ns>.pidbox`, `durable=False`
      // (`Mailbox._get_exchange`), and no queue: a reply-less broadcast declares none, so nothing
      // transient and non-exclusive exists for RabbitMQ 4.3 to refuse (error 541).
      // The broker caches it per connection (`maybe_declare`), so a new connection re-declares.
      await broker.declareExchange(pub.exchange, 'fanout', { durable: false, autoDelete: false });
      await broker.publish(pub.message, { exchange: pub.exchange, routingKey: pub.routingKey });
      return;
    }
    await broker.publish(pub.message, {
      exchange: pub.exchange,
      routingKey: pub.routingKey,
      queue: pidboxSink(settings.controlExchange),
    });
  }
}
