import type { QueueSpec } from '../brokers/broker';
import { idList, numArg, pyTruthy, strArg, strtobool } from '../protocol/control-args';
import { getProfile, type CeleryProfile, type CeleryProfileName } from '../protocol/profiles';
import { reprStr } from '../protocol/repr';
import { isPyDict, type PyValue } from '../serialization/py-values';
import { debugHandlers, poolHandlers, type PoolTarget } from './commands-pool';
import { stampedRevokeHandler, type StampedTarget } from './stamped-revoke';
import { nok, ok, PyControlError, type ControlHandler } from './pidbox';

/** What remote control needs from a worker (`state.consumer` in `celery/worker/control.py`). */
export interface ControlTarget extends PoolTarget, StampedTarget {
  readonly hostname: string;
  /** Add ids to the revoked set, store REVOKED where Celery 5.6.2+ does; terminate running ones. */
  revoke(ids: readonly string[], terminate: boolean, signal: string): Promise<string[]>;
  active(safe: boolean): PyValue[];
  reserved(): PyValue[];
  scheduled(): PyValue[];
  revokedIds(): string[];
  /** `registered` entries: `name` or `name [attr=value …]`, sorted. */
  registered(items: readonly string[], builtins: boolean): string[];
  /** `{task_id: [state, info]}` for known ids. */
  queryTask(ids: readonly string[]): Record<string, PyValue>;
  activeQueues(): PyValue[];
  stats(): Record<string, PyValue>;
  conf(withDefaults: boolean): Record<string, PyValue>;
  /** `app.bugreport()`. */
  report(): string;
  /** `hello` (mingle): merge the sender's revoked ids, answer ours (null to ourselves). */
  hello(fromNode: string, revoked: PyValue): PyValue;
  clockValue(): number;
  /** Returns false for an unknown task name; throws RangeError for an invalid rate. */
  setRateLimit(name: string, rate: string | number | null): boolean;
  /** `shown`: the values as sent, for `registered` (Celery keeps `10.0` a float). */
  setTimeLimit(
    name: string,
    hard: number | null,
    soft: number | null,
    shown?: { hard: PyValue; soft: PyValue },
  ): boolean;
  /** Whether task events are sent now; null when the worker has no event dispatcher. */
  eventsEnabled(): boolean | null;
  setEvents(enabled: boolean): void;
  heartbeat(): Promise<void>;
  shutdown(msg: string): void;
  addConsumer(spec: QueueSpec): Promise<void>;
  cancelConsumer(queue: string): Promise<void>;
}

/** `set(ids)` repr as Python prints it in `tasks {…} flagged as revoked`. */
function idSetRepr(ids: readonly string[]): string {
  return ids.length === 0 ? 'set()' : `{${ids.map(reprStr).join(', ')}}`;
}

const numOrNull = (v: PyValue | undefined): number | null => numArg(v) ?? null;

/** Python `float(s)` (`float` accepts surrounding whitespace, `_` between digits, inf/nan). */
const PY_FLOAT =
  /^\s*[+-]?(?:(?:\d(?:_?\d)*)?\.?\d(?:_?\d)*(?:[eE][+-]?\d(?:_?\d)*)?|\d(?:_?\d)*\.|inf(?:inity)?|nan)\s*$/i;

/**
 * What `celery.utils.time.rate(r)` raises, as `repr(exc)`, or undefined for a valid rate:
 * `RATE_MODIFIER_MAP[modifier or 's'](float(ops))` looks the modifier up first (an unknown one is
 * a `KeyError`, which `rate_limit` does not catch: the command fails), then `float(ops)`.
 */
function pyRateError(r: string | number | null): string | undefined {
  if (typeof r !== 'string' || r === '') return undefined;
  const slash = r.indexOf('/');
  const ops = slash < 0 ? r : r.slice(0, slash);
  const modifier = slash < 0 ? '' : r.slice(slash + 1);
  if (!['', 's', 'm', 'h'].includes(modifier)) throw new PyControlError('KeyError', modifier);
  if (!PY_FLOAT.test(ops)) {
    return `ValueError(${reprStr(`could not convert string to float: ${reprStr(ops)}`)})`;
  }
  return undefined;
}

/**
 * The built-in command table (`celery/worker/control.py`, `Panel.data`), bound to a worker;
 * `profile` is the Celery line whose reply texts we reproduce (default the newest). Arguments are
 * read as a Python worker reads them (`src/protocol/control-args.ts`).
 */
export function controlHandlers(
  t: ControlTarget,
  profile?: CeleryProfileName | CeleryProfile,
): Map<string, ControlHandler> {
  const prof = getProfile(profile);
  const setRepr = prof.revokeReplySetRepr;
  const line = prof.name.replace('celery-', '');
  const m = new Map<string, ControlHandler>();
  const revoke = async (a: Record<string, PyValue>, terminate: boolean): Promise<PyValue> => {
    const ids = [...new Set(idList(a.task_id))];
    const terminated = await t.revoke(ids, terminate, strArg(a.signal) ?? 'SIGTERM');
    if (terminate) {
      return ok(
        terminated.length === 0
          ? 'terminate: tasks unknown'
          : `terminate: ${terminated.join(', ')}`,
      );
    }
    return ok(`tasks ${setRepr ? idSetRepr(ids) : ids.join(', ')} flagged as revoked`);
  };
  m.set('ping', () => ok('pong'));
  m.set('revoke', (a) => revoke(a, pyTruthy(a.terminate)));
  m.set('terminate', (a) => revoke(a, true));
  m.set('stats', () => t.stats());
  const active: ControlHandler = (a) => t.active(pyTruthy(a.safe));
  m.set('active', active);
  m.set('dump_active', active);
  m.set('reserved', () => t.reserved());
  m.set('dump_reserved', () => t.reserved());
  m.set('scheduled', () => t.scheduled());
  m.set('dump_schedule', () => t.scheduled());
  m.set('revoked', () => t.revokedIds());
  m.set('dump_revoked', () => t.revokedIds());
  const registered: ControlHandler = (a) =>
    t.registered(idList(a.taskinfoitems), pyTruthy(a.builtins));
  m.set('registered', registered);
  m.set('dump_tasks', registered);
  m.set('query_task', (a) => t.queryTask(idList(a.ids)));
  m.set('active_queues', () => t.activeQueues());
  const conf: ControlHandler = (a) => t.conf(strtobool(a.with_defaults ?? false));
  m.set('conf', conf);
  m.set('dump_conf', conf);
  m.set('clock', () => ({ clock: t.clockValue() }));
  m.set('report', () => ok(t.report()));
  m.set('hello', (a) => t.hello(strArg(a.from_node) ?? '', a.revoked ?? null));
  // `election(state, id, topic, action=None)`: no gossip consumer here, so a valid call does
  // nothing and answers None; missing arguments fail as the Python signature does.
  m.set('election', (a) => {
    const missing = ['id', 'topic'].filter((k) => !(k in a));
    if (missing.length > 0) {
      const names = missing.map((k) => `'${k}'`).join(' and ');
      const n = missing.length === 1 ? 'argument' : 'arguments';
      throw new PyControlError(
        'TypeError',
        `election() missing ${String(missing.length)} required positional ${n}: ${names}`,
      );
    }
    return null;
  });
  m.set('rate_limit', (a) => {
    const name = strArg(a.task_name) ?? '';
    const r = a.rate_limit;
    const rate = typeof r === 'string' || typeof r === 'number' ? r : null;
    // As `rate_limit` does: `rate(rate_limit)` is checked before the task is looked up, so a bad
    // rate is reported even for an unknown task.
    const invalid = pyRateError(rate);
    if (invalid !== undefined) return nok(`Invalid rate limit string: ${invalid}`);
    try {
      if (!t.setRateLimit(name, rate)) return nok('unknown task');
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      return nok(`Invalid rate limit string: ValueError(${reprStr(msg)})`);
    }
    return ok(
      pyTruthy(rate) ? 'new rate limit set successfully' : 'rate limit disabled successfully',
    );
  });
  m.set('time_limit', (a) => {
    const name = strArg(a.task_name) ?? '';
    // The values as sent are what `registered time_limit` shows: Celery stores them unconverted,
    // so the CLI's floats print `10.0` and an int from `app.control.time_limit` prints `10`.
    const shown = { hard: a.hard ?? null, soft: a.soft ?? null };
    // In force, 0 is no limit (`soft_time_limit or default`, billiard's falsy timeout).
    const limit = (v: PyValue | undefined): number | null =>
      numOrNull(v) === 0 ? null : numOrNull(v);
    if (!t.setTimeLimit(name, limit(a.hard), limit(a.soft), shown)) {
      return nok('unknown task');
    }
    return ok('time limits set successfully');
  });
  // The dispatcher's event groups (`celery/worker/consumer/events.py`): a worker started with
  // task events (-E) has no group filter (groups=None: every group is sent), so `disable_events`
  // finds no 'task' group to drop and answers "already disabled" while task events keep flowing,
  // exactly as on a Python -E worker; one started without has ['worker'], and the two commands
  // add and drop 'task'.
  // Read on first use: until a command changes them, the groups are the start-up ones.
  let groups: Set<string> | undefined;
  const groupsOf = (): Set<string> | null => {
    const on = t.eventsEnabled();
    if (on === null) return null;
    groups ??= new Set<string>(on ? [] : ['worker']);
    return groups;
  };
  m.set('enable_events', () => {
    const g = groupsOf();
    if (g === null) return nok('event dispatcher unavailable');
    if (g.size > 0 && !g.has('task')) {
      g.add('task');
      t.setEvents(true);
      return ok('task events enabled');
    }
    return ok('task events already enabled');
  });
  m.set('disable_events', () => {
    const g = groupsOf();
    if (g === null) return nok('event dispatcher unavailable');
    if (g.has('task')) {
      g.delete('task');
      t.setEvents(false);
      return ok('task events disabled');
    }
    return ok('task events already disabled');
  });
  m.set('heartbeat', async () => {
    await t.heartbeat();
    return null;
  });
  m.set('shutdown', (a) => {
    t.shutdown(strArg(a.msg) ?? 'Got shutdown from remote');
    return null;
  });
  m.set('add_consumer', (a) => {
    const queue = strArg(a.queue) ?? '';
    const exchange = strArg(a.exchange) ?? queue;
    const et = a.exchange_type;
    // `state.consumer.call_soon(add_task_queue, …)`: the reply does not wait for the declaration.
    void t
      .addConsumer({
        name: queue,
        exchange,
        exchangeType: et === 'topic' || et === 'fanout' || et === 'headers' ? et : 'direct',
        routingKey: strArg(a.routing_key) ?? queue,
        ...(isPyDict(a.queue_arguments) ? { arguments: a.queue_arguments } : {}),
      })
      .catch(() => undefined);
    return ok(`add consumer ${queue}`);
  });
  m.set('cancel_consumer', (a) => {
    const queue = strArg(a.queue) ?? '';
    void t.cancelConsumer(queue).catch(() => undefined);
    return ok(`no longer consuming from ${queue}`);
  });
  if (line !== '5.0' && line !== '5.1' && line !== '5.2' && line !== '4.4') {
    m.set('revoke_by_stamped_headers', stampedRevokeHandler(t));
  }
  for (const [k, h] of [...poolHandlers(t), ...debugHandlers()]) m.set(k, h);
  return m;
}

export { PyControlError };
