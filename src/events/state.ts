import { PyFloat, type PyValue } from '../serialization/py-values';

/** A received event: its wire fields (snake_case) plus `local_received`. */
export type CeleryEvent = Readonly<Record<string, PyValue>> & { readonly type: string };

/** `celery/states.py`, `PRECEDENCE` (lower index = higher precedence; unknown = None's). */
const PRECEDENCE = [
  'SUCCESS',
  'FAILURE',
  null,
  'REVOKED',
  'STARTED',
  'RECEIVED',
  'REJECTED',
  'RETRY',
  'PENDING',
];
const precedence = (s: string): number => {
  const i = PRECEDENCE.indexOf(s);
  return i < 0 ? PRECEDENCE.indexOf(null) : i;
};

/** `TASK_EVENT_TO_STATE` (`celery/events/state.py`). */
const TASK_EVENT_TO_STATE: Readonly<Record<string, string>> = {
  sent: 'PENDING',
  received: 'RECEIVED',
  started: 'STARTED',
  failed: 'FAILURE',
  retried: 'RETRY',
  succeeded: 'SUCCESS',
  revoked: 'REVOKED',
  rejected: 'REJECTED',
};

/** `Task.merge_rules`: fields taken from RECEIVED even when it arrives late. */
const RECEIVED_KEEP = new Set([
  'name',
  'args',
  'kwargs',
  'parent_id',
  'root_id',
  'retries',
  'eta',
  'expires',
]);

/** `HEARTBEAT_EXPIRE_WINDOW` (percent of `freq`). */
const HEARTBEAT_EXPIRE_WINDOW = 200;

const num = (v: PyValue | undefined): number | null =>
  typeof v === 'number' ? v : v instanceof PyFloat ? v.value : null;

/** A worker as events describe it (`celery/events/state.py`, `Worker`). */
export interface WorkerInfo {
  hostname: string;
  pid: number | null;
  freq: number;
  /** Heartbeat timestamps (seconds), oldest first. */
  heartbeats: number[];
  clock: number;
  active: number | null;
  processed: number | null;
  loadavg: PyValue;
  sw_ident: string | null;
  sw_ver: string | null;
  sw_sys: string | null;
  /** Heartbeat not expired (`Worker.alive`: last + freq × 2 > now). */
  alive: boolean;
}

/** A task as events describe it (`celery/events/state.py`, `Task`): state and event fields. */
export interface TaskInfo {
  uuid: string;
  state: string | null;
  /** The worker's hostname. */
  worker: string | null;
  timestamp: number | null;
  /** Every field the task's events carried (`name`, `args`, `result`, `exception`, …). */
  fields: Record<string, PyValue>;
  /** Timestamps by event (`received`, `started`, `succeeded`, …). */
  times: Record<string, number>;
}

/**
 * `celery.events.state.State` bookkeeping: workers by hostname, tasks by id, with Celery's
 * out-of-order merge (a late `task-received` never downgrades a finished task's state).
 */
export class EventState {
  readonly workers = new Map<string, WorkerInfo>();
  readonly tasks = new Map<string, TaskInfo>();
  eventCount = 0;
  taskCount = 0;

  constructor(private readonly now: () => number = () => Date.now() / 1000) {}

  /** `State.event(event)`. */
  event(e: CeleryEvent): void {
    this.eventCount++;
    const [group, ...rest] = e.type.split('-');
    const subject = rest.join('-');
    const hostname = typeof e.hostname === 'string' ? e.hostname : null;
    const ts = num(e.timestamp);
    if (group === 'worker' && hostname) this.workerEvent(hostname, subject, e, ts);
    else if (group === 'task' && typeof e.uuid === 'string') {
      if (hostname) this.workerEvent(hostname, 'task', e, ts);
      this.taskEvent(e.uuid, subject, e, ts, hostname);
    }
  }

  private workerEvent(host: string, subject: string, e: CeleryEvent, ts: number | null): void {
    let w = this.workers.get(host);
    if (!w) {
      w = {
        hostname: host,
        pid: null,
        freq: 60,
        heartbeats: [],
        clock: 0,
        active: null,
        processed: null,
        loadavg: null,
        sw_ident: null,
        sw_ver: null,
        sw_sys: null,
        alive: false,
      };
      this.workers.set(host, w);
    }
    if (subject === 'offline') {
      w.heartbeats = [];
    } else if (subject !== 'task') {
      w.pid = num(e.pid) ?? w.pid;
      w.freq = num(e.freq) ?? w.freq;
      w.active = num(e.active) ?? w.active;
      w.processed = num(e.processed) ?? w.processed;
      w.loadavg = e.loadavg ?? w.loadavg;
      for (const k of ['sw_ident', 'sw_ver', 'sw_sys'] as const) {
        const v = e[k];
        if (typeof v === 'string') w[k] = v;
      }
    }
    w.clock = num(e.clock) ?? w.clock;
    if (subject !== 'offline' && ts !== null) {
      w.heartbeats.push(ts);
      w.heartbeats.sort((a, b) => a - b);
      if (w.heartbeats.length > 4) w.heartbeats.shift();
    }
    this.refreshAlive(w);
  }

  private refreshAlive(w: WorkerInfo): void {
    const last = w.heartbeats[w.heartbeats.length - 1];
    w.alive = last !== undefined && this.now() < last + (w.freq * HEARTBEAT_EXPIRE_WINDOW) / 100;
  }

  /** `Task.event`: the state moves only forward in precedence; late RECEIVED merges its fields. */
  private taskEvent(
    uuid: string,
    subject: string,
    e: CeleryEvent,
    ts: number | null,
    host: string | null,
  ): void {
    let t = this.tasks.get(uuid);
    if (!t) {
      t = { uuid, state: null, worker: null, timestamp: null, fields: {}, times: {} };
      this.tasks.set(uuid, t);
      this.taskCount++;
    }
    const mapped = TASK_EVENT_TO_STATE[subject];
    if (mapped !== undefined && ts !== null) t.times[subject] = ts;
    const state = mapped ?? subject.toUpperCase();
    const fields: Record<string, PyValue> = {};
    for (const [k, v] of Object.entries(e)) {
      if (!['type', 'hostname', 'timestamp', 'local_received', 'utcoffset'].includes(k)) {
        fields[k] = v;
      }
    }
    if (t.state !== null && precedence(state) > precedence(t.state)) {
      // This state logically happened before the current one: keep only its merge fields.
      if (state === 'RECEIVED') {
        for (const [k, v] of Object.entries(fields)) if (RECEIVED_KEEP.has(k)) t.fields[k] = v;
      }
    } else {
      Object.assign(t.fields, fields);
      t.state = state;
      t.timestamp = ts;
    }
    if (host) t.worker = host;
  }

  /** Workers whose heartbeat has not expired. */
  aliveWorkers(): WorkerInfo[] {
    return [...this.workers.values()].filter((w) => {
      this.refreshAlive(w);
      return w.alive;
    });
  }

  /** Tasks of a type (`State.tasks_by_type`), newest first. */
  tasksByType(name: string): TaskInfo[] {
    return [...this.tasks.values()]
      .filter((t) => t.fields.name === name)
      .sort((a, b) => (b.timestamp ?? 0) - (a.timestamp ?? 0));
  }
}
