import type { CeleryLine } from '../config/config';
import { randomUUID } from 'node:crypto';
import type { ResultBackend } from '../backends/backend';
import type { Broker } from '../brokers/broker';
import { toTaskInput, type ApplyOptions } from '../client/apply-options';
import type { ClientSettings } from '../client/client';
import { routeTask, type ResolvedRoute } from '../protocol/route';
import { BackendError } from '../errors/errors';
import type { CeleryProfileName } from '../protocol/profiles';
import type { RawMessage } from '../protocol/raw-message';
import type { SignatureDict } from '../protocol/signature';
import type { TaskInput } from '../protocol/task-input';
import { encodeTaskMessage } from '../protocol/task-message';
import type { PyValue } from '../serialization/py-values';
import { anonNodename } from '../util/hostname';
import type { CanvasHost } from './apply';

/** Apply options Celery consumes itself and never puts on the wire. */
const CONSUMED = new Set([
  'producer',
  'add_to_parent',
  'connection',
  'router',
  'result_cls',
  'publisher',
  'retry',
  'retry_policy',
  'route_name',
  'subtask_type',
]);

type Setter = (o: ApplyOptions, v: PyValue) => void;
const str = (v: PyValue): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: PyValue): number | undefined => (typeof v === 'number' ? v : undefined);
function set<K extends keyof ApplyOptions>(o: ApplyOptions, k: K, v: ApplyOptions[K] | undefined) {
  if (v !== undefined) o[k] = v;
}

/** snake_case apply option → the client's camelCase {@link ApplyOptions}. */
const SETTERS: Record<string, Setter> = {
  task_id: (o, v) => {
    set(o, 'taskId', str(v));
  },
  countdown: (o, v) => {
    set(o, 'countdown', num(v));
  },
  eta: (o, v) => {
    set(o, 'eta', str(v));
  },
  expires: (o, v) => {
    set(o, 'expires', typeof v === 'string' || typeof v === 'number' ? v : undefined);
  },
  queue: (o, v) => {
    set(o, 'queue', str(v));
  },
  exchange: (o, v) => {
    set(o, 'exchange', str(v));
  },
  routing_key: (o, v) => {
    set(o, 'routingKey', str(v));
  },
  priority: (o, v) => {
    set(o, 'priority', num(v));
  },
  serializer: (o, v) => {
    set(o, 'serializer', str(v));
  },
  compression: (o, v) => {
    set(o, 'compression', str(v));
  },
  headers: (o, v) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v))
      o.headers = v as Record<string, PyValue>;
  },
  time_limit: (o, v) => {
    set(o, 'timeLimit', num(v));
  },
  soft_time_limit: (o, v) => {
    set(o, 'softTimeLimit', num(v));
  },
  retries: (o, v) => {
    set(o, 'retries', num(v));
  },
  shadow: (o, v) => {
    set(o, 'shadow', str(v));
  },
  link: (o, v) => {
    if (v !== null) o.link = (Array.isArray(v) ? v : [v]) as SignatureDict[];
  },
  link_error: (o, v) => {
    if (v !== null) o.linkError = (Array.isArray(v) ? v : [v]) as SignatureDict[];
  },
  ignore_result: (o, v) => {
    set(o, 'ignoreResult', typeof v === 'boolean' ? v : undefined);
  },
  reply_to: (o, v) => {
    set(o, 'replyTo', str(v));
  },
  root_id: (o, v) => {
    set(o, 'rootId', str(v));
  },
  parent_id: (o, v) => {
    set(o, 'parentId', str(v));
  },
  group_id: (o, v) => {
    set(o, 'groupId', str(v));
  },
  group_index: (o, v) => {
    set(o, 'groupIndex', num(v));
  },
};

/** Split Celery options into the client's options, the `chain`/`chord` embed, and leftovers. */
export function splitOptions(options: Readonly<Record<string, PyValue>>): {
  apply: ApplyOptions;
  chain: SignatureDict[] | null;
  chord: SignatureDict | null;
} {
  const apply: ApplyOptions = {};
  const props: Record<string, PyValue> = {};
  for (const [k, v] of Object.entries(options)) {
    if (k === 'chain' || k === 'chord' || CONSUMED.has(k) || v === null) continue;
    const s = SETTERS[k];
    if (s) s(apply, v);
    else props[k] = v;
  }
  if (Object.keys(props).length > 0) apply.properties = props;
  const ch = options.chain;
  const cd = options.chord;
  return {
    apply,
    chain: Array.isArray(ch) && ch.length > 0 ? (ch as SignatureDict[]) : null,
    chord: cd !== undefined && cd !== null && typeof cd === 'object' ? (cd as SignatureDict) : null,
  };
}

/** The app surface a canvas host needs; `CeleryApp` satisfies it structurally. */
export interface CanvasApp {
  readonly config: ClientSettings & { celeryLine: CeleryLine };
  readonly oid: string;
  broker(): Promise<Broker>;
  backend(): Promise<ResultBackend>;
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
): { id: string; message: RawMessage; route: ResolvedRoute } {
  const { input, route } = canvasTaskInput(settings, profile, name, args, kwargs, options);
  const message = encodeTaskMessage(input, { now: env.now, origin: env.origin, replyTo: env.oid });
  return { id: input.id, message, route };
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
        options,
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
    },
    async setChordSize(groupId, size) {
      const join = (await app.backend()).chordJoin;
      if (!join) throw new BackendError('result backend cannot join chords');
      await join.setChordSize(groupId, size);
    },
    async ensureChordsAllowed() {
      const b = await app.backend();
      if (b.chordJoin) return;
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
