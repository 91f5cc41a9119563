import type { QueueSpec } from '../brokers/broker';
import { getProfile, type CeleryProfile, type CeleryProfileName } from '../protocol/profiles';
import { reprStr } from '../protocol/repr';
import { isPyDict, type PyValue } from '../serialization/py-values';
import { nok, ok, type ControlHandler } from './pidbox';

/** What remote control needs from a worker (`state.consumer` in `celery/worker/control.py`). */
export interface ControlTarget {
  readonly hostname: string;
  /** Add ids to the revoked set, store REVOKED where Celery 5.6.2+ does; terminate running ones. */
  revoke(ids: readonly string[], terminate: boolean, signal: string): Promise<string[]>;
  active(safe: boolean): PyValue[];
  reserved(): PyValue[];
  scheduled(): PyValue[];
  revokedIds(): string[];
  registered(): string[];
  /** `{task_id: [state, info]}` for known ids. */
  queryTask(ids: readonly string[]): Record<string, PyValue>;
  activeQueues(): PyValue[];
  stats(): Record<string, PyValue>;
  conf(): Record<string, PyValue>;
  clockValue(): number;
  /** Returns false for an unknown task name. */
  setRateLimit(name: string, rate: string | number | null): boolean;
  setTimeLimit(name: string, hard: number | null, soft: number | null): boolean;
  setEvents(enabled: boolean): void;
  heartbeat(): Promise<void>;
  shutdown(): void;
  addConsumer(spec: QueueSpec): Promise<void>;
  cancelConsumer(queue: string): Promise<void>;
}

function idsOf(v: PyValue | undefined): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return [];
}

function numOrNull(v: PyValue | undefined): number | null {
  if (typeof v === 'number') return v;
  if (v !== null && typeof v === 'object' && 'value' in v && typeof v.value === 'number') {
    return v.value;
  }
  return null;
}

/** `set(ids)` repr as Python prints it in `tasks {…} flagged as revoked`. */
function idSetRepr(ids: readonly string[]): string {
  return ids.length === 0 ? 'set()' : `{${ids.map(reprStr).join(', ')}}`;
}

/**
 * The built-in command table (`celery/worker/control.py`), bound to a worker; `profile` is the
 * Celery line whose reply texts we reproduce (default the newest).
 */
export function controlHandlers(
  t: ControlTarget,
  profile?: CeleryProfileName | CeleryProfile,
): Map<string, ControlHandler> {
  const setRepr = getProfile(profile).revokeReplySetRepr;
  const m = new Map<string, ControlHandler>();
  const revoke: ControlHandler = async (a) => {
    const ids = [...new Set(idsOf(a.task_id))];
    const terminate = a.terminate === true;
    const terminated = await t.revoke(
      ids,
      terminate,
      typeof a.signal === 'string' ? a.signal : 'SIGTERM',
    );
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
  m.set('revoke', revoke);
  m.set('terminate', (a) => revoke({ ...a, terminate: true }));
  m.set('stats', () => t.stats());
  const active: ControlHandler = (a) => t.active(a.safe === true);
  m.set('active', active);
  m.set('dump_active', active);
  m.set('reserved', () => t.reserved());
  m.set('dump_reserved', () => t.reserved());
  m.set('scheduled', () => t.scheduled());
  m.set('dump_schedule', () => t.scheduled());
  m.set('revoked', () => t.revokedIds());
  m.set('dump_revoked', () => t.revokedIds());
  m.set('registered', () => t.registered());
  m.set('dump_tasks', () => t.registered());
  m.set('query_task', (a) => t.queryTask(idsOf(a.ids)));
  m.set('active_queues', () => t.activeQueues());
  m.set('conf', () => t.conf());
  m.set('clock', () => ({ clock: t.clockValue() }));
  m.set('report', () => ok(`software -> celery-wire (Node ${process.version})`));
  // Mingle: we have no revoked ids to share beyond our own; a hello from ourselves gets None.
  m.set('hello', (a) => {
    if (a.from_node === t.hostname) return null;
    return {
      revoked: Object.fromEntries(t.revokedIds().map((id) => [id, [0, id]])),
      clock: t.clockValue(),
    };
  });
  m.set('rate_limit', (a) => {
    const name = typeof a.task_name === 'string' ? a.task_name : '';
    const rate =
      typeof a.rate_limit === 'string' || typeof a.rate_limit === 'number' ? a.rate_limit : null;
    if (!t.setRateLimit(name, rate)) return nok('unknown task');
    return ok(
      rate === null || rate === 0 || rate === '0'
        ? 'rate limit disabled successfully'
        : 'new rate limit set successfully',
    );
  });
  m.set('time_limit', (a) => {
    const name = typeof a.task_name === 'string' ? a.task_name : '';
    if (!t.setTimeLimit(name, numOrNull(a.hard), numOrNull(a.soft))) return nok('unknown task');
    return ok('time limits set successfully');
  });
  m.set('enable_events', () => {
    t.setEvents(true);
    return ok('task events enabled');
  });
  m.set('disable_events', () => {
    t.setEvents(false);
    return ok('task events disabled');
  });
  m.set('heartbeat', async () => {
    await t.heartbeat();
    return null;
  });
  m.set('shutdown', () => {
    t.shutdown();
    return null;
  });
  m.set('add_consumer', async (a) => {
    const queue = typeof a.queue === 'string' ? a.queue : '';
    const exchange = typeof a.exchange === 'string' ? a.exchange : queue;
    const et = a.exchange_type;
    await t.addConsumer({
      name: queue,
      exchange,
      exchangeType: et === 'topic' || et === 'fanout' || et === 'headers' ? et : 'direct',
      routingKey: typeof a.routing_key === 'string' ? a.routing_key : queue,
      ...(isPyDict(a.queue_arguments) ? { arguments: a.queue_arguments } : {}),
    });
    return ok(`add consumer ${queue}`);
  });
  m.set('cancel_consumer', async (a) => {
    const queue = typeof a.queue === 'string' ? a.queue : '';
    await t.cancelConsumer(queue);
    return ok(`no longer consuming from ${queue}`);
  });
  return m;
}
