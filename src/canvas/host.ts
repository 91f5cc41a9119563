import type { CeleryLine } from '../config/config';
import { randomUUID } from 'node:crypto';
import { usesChordUnlock } from './chord-unlock';
import type { ResultBackend } from '../backends/backend';
import type { Broker } from '../brokers/broker';
import { toTaskInput } from '../client/apply-options';
import { fromCeleryOptions } from '../client/celery-options';
import type { ClientSettings } from '../client/client';
import { routeTask, type ResolvedRoute } from '../protocol/route';
import { BackendError } from '../errors/errors';
import type { CeleryProfileName } from '../protocol/profiles';
import type { RawMessage } from '../protocol/raw-message';
import type { TaskInput } from '../protocol/task-input';
import { encodeTaskMessage } from '../protocol/task-message';
import { taskSentFields } from '../protocol/task-sent';
import type { PyValue } from '../serialization/py-values';
import { anonNodename } from '../util/hostname';
import type { CanvasHost } from './apply';
import { addTrail, parentDefaults } from '../client/current-task';
import { asTuple } from './progression';

/** Split Celery options (the shared table of `src/client/celery-options.ts`). */
export const splitOptions = fromCeleryOptions;

/** The app surface a canvas host needs; `CeleryApp` satisfies it structurally. */
export interface CanvasApp {
  readonly config: ClientSettings & { celeryLine: CeleryLine };
  readonly oid: string;
  broker(): Promise<Broker>;
  backend(): Promise<ResultBackend>;
  /** The app's client: publishes `task-sent` events (`task_send_sent_event`). */
  readonly client?: { sentEvent(fields: Record<string, PyValue>): Promise<void> };
}

/** Process state of {@link canvasHost} (defaults: real clock, uuid4, `gen<pid>@<host>`). */
export interface CanvasHostOptions {
  uuid?: () => string;
  now?: () => Date;
  origin?: string;
}

/** The {@link TaskInput} and route of one canvas step, as the client builds `send_task`'s. */
export function canvasTaskInput(
  settings: ClientSettings,
  profile: CeleryProfileName,
  name: string,
  args: readonly PyValue[],
  kwargs: Readonly<Record<string, PyValue>>,
  options: Readonly<Record<string, PyValue>>,
): { input: TaskInput; route: ResolvedRoute } {
  const { apply, chain, chord } = splitOptions(options);
  const route = routeTask(
    name,
    args,
    kwargs,
    {
      queue: apply.queue,
      exchange: apply.exchange,
      routingKey: apply.routingKey,
      exchangeType: apply.exchangeType,
      priority: apply.priority,
    },
    settings,
  );
  const input = toTaskInput(
    name,
    apply.taskId ?? '',
    { ...apply, args, kwargs },
    {
      serializer: settings.taskSerializer,
      compression: settings.taskCompression,
      protocol: settings.taskProtocol,
      deliveryMode: settings.taskDefaultDeliveryMode,
      profile,
      jsonDialect: settings.jsonDialect,
    },
    route.priority,
  );
  if (chain) input.chain = chain;
  if (chord) input.chord = chord;
  return { input, route };
}

/** Build the message of one canvas step the way the client builds `send_task` messages. */
export function encodeCanvasTask(
  settings: ClientSettings,
  profile: CeleryProfileName,
  env: { now: Date; origin: string; oid: string },
  name: string,
  args: readonly PyValue[],
  kwargs: Readonly<Record<string, PyValue>>,
  options: Readonly<Record<string, PyValue>>,
): {
  id: string;
  message: RawMessage;
  route: ResolvedRoute;
  /** `task-sent` event fields when `task_send_sent_event` is on. */
  sent: Record<string, PyValue> | null;
} {
  const { input, route } = canvasTaskInput(settings, profile, name, args, kwargs, options);
  const encodeEnv = { now: env.now, origin: env.origin, replyTo: env.oid };
  const message = encodeTaskMessage(input, encodeEnv);
  const sent =
    settings.taskSendSentEvent === true
      ? taskSentFields(input, encodeEnv, {
          queue: route.queue.name,
          exchange: route.exchange,
          routingKey: route.routingKey,
        })
      : null;
  return { id: input.id, message, route, sent };
}

/**
 * `send_task` inside a task body: `root_id`/`parent_id` not given (None) come from the running
 * worker task, and with `task_inherit_parent_priority` its priority (`options.setdefault`).
 */
function fromParent(
  options: Readonly<Record<string, PyValue>>,
  inheritPriority: boolean,
): Readonly<Record<string, PyValue>> {
  const id = (k: string): string | null => {
    const v = options[k];
    return typeof v === 'string' && v !== '' ? v : null;
  };
  const d = parentDefaults(
    { rootId: id('root_id'), parentId: id('parent_id'), priority: 'priority' in options },
    inheritPriority,
  );
  if (Object.keys(d).length === 0) return options;
  const out: Record<string, PyValue> = { ...options };
  if (d.rootId !== undefined) out.root_id = d.rootId;
  if (d.parentId !== undefined) out.parent_id = d.parentId;
  if (d.priority !== undefined) out.priority = d.priority;
  return out;
}

/**
 * A {@link CanvasHost} publishing through an app's broker with the client's message building,
 * subscribing to each result first (`backend.on_task_call`), like `send_task`.
 */
export function canvasHost(app: CanvasApp, o: CanvasHostOptions = {}): CanvasHost {
  const profile: CeleryProfileName = `celery-${app.config.celeryLine}`;
  const origin = o.origin ?? anonNodename();
  const now = o.now ?? ((): Date => new Date());
  return {
    uuid: o.uuid ?? randomUUID,
    oid: app.oid,
    profile,
    protocol: app.config.taskProtocol,
    async sendTask(name, args, kwargs, options) {
      const built = encodeCanvasTask(
        app.config,
        profile,
        { now: now(), origin, oid: app.oid },
        name,
        args,
        kwargs,
        fromParent(options, app.config.taskInheritParentPriority === true),
      );
      const broker = await app.broker();
      if (options.ignore_result !== true) await (await app.backend()).onTaskCall(built.id);
      const r = built.route;
      await broker.publishMany([
        {
          message: built.message,
          target: { exchange: r.exchange, routingKey: r.routingKey, queue: r.queue },
        },
      ]);
      if (built.sent) await app.client?.sentEvent(built.sent);
    },
    async setChordSize(groupId, size) {
      const b = await app.backend();
      const join = b.chordJoin;
      if (!join && usesChordUnlock(b)) return; // `BaseBackend.set_chord_size`: a no-op
      if (!join) throw new BackendError('result backend cannot join chords');
      await join.setChordSize(groupId, size);
    },
    async usesChordUnlock() {
      return usesChordUnlock(await app.backend());
    },
    addTrail(ref) {
      addTrail(asTuple(ref));
    },
    async ensureChordsAllowed() {
      const b = await app.backend();
      if (b.chordJoin || usesChordUnlock(b)) return;
      // `RPCBackend.ensure_chords_allowed` (`celery/backends/rpc.py`) and
      // `DisabledBackend.ensure_chords_allowed` (`E_CHORD_NO_BACKEND`): Celery's NotImplementedError.
      throw new BackendError(
        b.capabilities.supportsNativeJoin
          ? 'The "rpc" result backend does not support chords! Note that a group chained with a ' +
              'task is also upgraded to be a chord, as this pattern requires synchronization.'
          : 'Starting chords requires a result backend to be configured. Note that a group ' +
              'chained with a task is also upgraded to be a chord, as this pattern requires ' +
              'synchronization.',
      );
    },
  };
}
