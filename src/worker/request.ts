import type { Delivery } from '../brokers/broker';
import type { CeleryConfig } from '../config/config';
import type { StoreRequest } from '../backends/backend';
import type { DecodedTask } from '../protocol/task-decode';
import { effectiveIgnoreResult } from '../protocol/line-quirks';
import { argsRepr, kwargsRepr } from '../protocol/saferepr';
import { isPyDict, type PyValue } from '../serialization/py-values';
import { deliveryKey } from './delivery';
import type { TaskDefinition, TaskRequestInfo } from './task';

function str(v: PyValue | undefined): string | null {
  return typeof v === 'string' ? v : null;
}

function num(v: PyValue | undefined): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (isPyDict(v) || v === null || v === undefined) return null;
  if (typeof v === 'object' && 'value' in v && typeof v.value === 'number') return v.value;
  return null;
}

/** Seconds from a limit value; falsy (null, 0) means "not set", as `execute_using_pool`. */
function limitOf(v: PyValue | undefined): number | null {
  const n = num(v);
  return n === null || n === 0 ? null : n;
}

/**
 * One received task, as `celery/worker/request.py`, `Request`: the decoded message, its
 * delivery, and the settings resolved for it (ignore_result header first, acks_late, limits).
 */
export class WorkerRequest {
  readonly id: string;
  readonly name: string;
  readonly ignoreResult: boolean;
  readonly storeErrors: boolean;
  readonly acksLate: boolean;
  readonly rejectOnWorkerLost: boolean;
  /** Ack a failed run under `acks_late` (`Task.acks_on_failure`), else reject it unrequeued. */
  readonly acksOnFailure: boolean;
  /** Ack a hard time limit under `acks_late` (`Task.acks_on_timeout`), else requeue it. */
  readonly acksOnTimeout: boolean;
  readonly retryOnWorkerLost: boolean;
  /** `[hard, soft]` in seconds, header first then task then config. */
  readonly hardLimit: number | null;
  readonly softLimit: number | null;
  /** The raw hard limit value, stored as `TimeLimitExceeded(<value>)`. */
  readonly hardLimitValue: PyValue;
  /** The delivery's identity (queue + session + tag): the pool's and the state's key. */
  readonly deliveryKey: string;
  acknowledged = false;
  timeStart: number | null = null;
  /**
   * `Request.worker_pid`: who runs it. Celery reports the pool child's pid (one of
   * `stats.pool.processes`); a thread-pool job its thread id (what our `processes` lists), an
   * in-process one this process's pid (as Celery's solo pool: `os.getpid()`).
   */
  workerPid: number | null = null;

  constructor(
    readonly decoded: DecodedTask,
    readonly delivery: Delivery,
    readonly def: TaskDefinition,
    readonly hostname: string,
    config: CeleryConfig,
    limits: { hard?: number | null; soft?: number | null; shown?: { hard: PyValue } } = {},
  ) {
    const h = decoded.headers;
    this.deliveryKey = deliveryKey(delivery);
    this.id = decoded.id;
    this.name = decoded.task;
    const opt = def.options;
    // The header wins on 5.6+ only; 5.1–5.5 producers always send `ignore_result: False`.
    this.ignoreResult = effectiveIgnoreResult(
      `celery-${config.celeryLine}`,
      h.ignore_result,
      opt.ignoreResult ?? config.taskIgnoreResult,
    );
    this.storeErrors =
      !this.ignoreResult || (opt.storeErrorsEvenIfIgnored ?? config.taskStoreErrorsEvenIfIgnored);
    this.acksLate = opt.acksLate ?? config.taskAcksLate;
    this.rejectOnWorkerLost = opt.rejectOnWorkerLost ?? config.taskRejectOnWorkerLost;
    // `Task.bind` (`celery/app/task.py`): the specific flags fall back to the combined one.
    const both = opt.acksOnFailureOrTimeout ?? config.taskAcksOnFailureOrTimeout;
    this.acksOnFailure = opt.acksOnFailure ?? config.taskAcksOnFailure ?? both;
    this.acksOnTimeout = opt.acksOnTimeout ?? config.taskAcksOnTimeout ?? both;
    this.retryOnWorkerLost = opt.retryOnWorkerLost ?? config.taskRetryOnWorkerLost;
    const tl = Array.isArray(h.timelimit) ? (h.timelimit as PyValue[]) : [];
    const hardHdr = limitOf(tl[0]);
    // A limit set by `control time_limit` reads as sent (the CLI's 1.0: `TimeLimitExceeded(1.0,)`).
    const controlHard =
      limits.hard === null || limits.hard === undefined
        ? null
        : (limits.shown?.hard ?? limits.hard);
    this.hardLimitValue =
      hardHdr !== null ? (tl[0] ?? null) : (controlHard ?? opt.timeLimit ?? config.taskTimeLimit);
    this.hardLimit = hardHdr ?? limits.hard ?? opt.timeLimit ?? config.taskTimeLimit;
    this.softLimit = limitOf(tl[1]) ?? limits.soft ?? opt.softTimeLimit ?? config.taskSoftTimeLimit;
  }

  get eta(): number | null {
    return this.decoded.eta === null ? null : this.decoded.eta / 1000;
  }

  get expires(): number | null {
    return this.decoded.expires === null ? null : this.decoded.expires / 1000;
  }

  /** The request fields a task sees (`Context`). */
  info(): TaskRequestInfo {
    const d = this.decoded;
    const h = d.headers;
    const tl = Array.isArray(h.timelimit) ? (h.timelimit as PyValue[]) : null;
    return {
      id: this.id,
      task: this.name,
      retries: num(h.retries) ?? 0,
      rootId: str(h.root_id),
      parentId: str(h.parent_id),
      group: str(h.group),
      groupIndex: num(h.group_index),
      eta: str(h.eta),
      expires: str(h.expires),
      correlationId: str(d.properties.correlation_id) ?? this.id,
      replyTo: str(d.properties.reply_to),
      deliveryInfo: this.delivery.deliveryInfo,
      hostname: this.hostname,
      args: d.args,
      kwargs: d.kwargs,
      timelimit: tl ? [tl[0] ?? null, tl[1] ?? null] : null,
      shadow: str(h.shadow),
      origin: str(h.origin),
      headers: h,
      properties: d.properties as Readonly<Record<string, PyValue>>,
      // `Context.update`: `time_limit, soft_time_limit = timelimit` (`celery/app/task.py`).
      timeLimit: tl ? (tl[0] ?? null) : null,
      softTimeLimit: tl ? (tl[1] ?? null) : null,
      replacedTaskNesting: num(h.replaced_task_nesting) ?? 0,
      callbacks: d.embed.callbacks,
      errbacks: d.embed.errbacks,
      chain: d.embed.chain,
      chord: d.embed.chord,
      stamps: isPyDict(h.stamps) ? h.stamps : null,
    };
  }

  /** What the backend reads from the request (`_get_result_meta`, RPC destination). */
  storeRequest(children: readonly PyValue[] = []): StoreRequest {
    const h = this.decoded.headers;
    const di = this.delivery.deliveryInfo;
    return {
      task: this.name,
      args: this.decoded.args,
      kwargs: this.decoded.kwargs,
      hostname: this.hostname,
      retries: num(h.retries) ?? 0,
      deliveryInfo: { routing_key: di.routing_key },
      group: str(h.group),
      parentId: str(h.parent_id),
      children,
      stampedHeaders: Array.isArray(h.stamped_headers)
        ? (h.stamped_headers as PyValue[]).filter((x): x is string => typeof x === 'string')
        : null,
      stamps: isPyDict(h.stamps) ? h.stamps : null,
      replyTo: str(this.decoded.properties.reply_to),
      correlationId: str(this.decoded.properties.correlation_id) ?? this.id,
    };
  }

  /** `Request.info(safe)` for `inspect active/reserved/scheduled/query_task`. */
  inspectInfo(safe = false): Record<string, PyValue> {
    const d = this.decoded;
    const di = this.delivery.deliveryInfo;
    return {
      id: this.id,
      name: this.name,
      args: safe ? (str(d.headers.argsrepr) ?? argsRepr(d.args)) : d.args,
      kwargs: safe ? (str(d.headers.kwargsrepr) ?? kwargsRepr(d.kwargs)) : d.kwargs,
      type: this.name,
      hostname: this.hostname,
      time_start: this.timeStart,
      acknowledged: this.acknowledged,
      delivery_info: {
        exchange: di.exchange,
        routing_key: di.routing_key,
        priority: di.priority ?? null,
        redelivered: this.delivery.redelivered,
      },
      worker_pid: this.timeStart === null ? null : (this.workerPid ?? process.pid),
    };
  }
}
