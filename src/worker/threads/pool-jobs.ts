import type { PyValue } from '../../serialization/py-values';
import type { TaskCall } from '../executor';
import type { ToThread } from './messages';
import type { ThreadSlot } from './thread-slot';
import { pack } from './transfer';
import { writeStats } from './write-stats';

/** One task handed to the pool. */
export interface Job {
  readonly id: number;
  readonly call: TaskCall;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: unknown) => void;
  slot: ThreadSlot | null;
  /** Main-thread errors handed to the thread by token (`ctx.retry`). */
  readonly tokens: Map<number, unknown>;
}

/** The `run` message of a job: the bound args and, for a bound task, its request fields. */
export function runMessage(job: Job): ToThread {
  const bind = job.call.req.def.options.bind === true;
  const t = job.call.trail;
  return {
    t: 'run',
    job: job.id,
    name: job.call.req.name,
    bind,
    args: pack(job.call.args),
    info: pack(bind ? stripFunctions(job.call.context()) : null),
    trail: { id: t.id, rootId: t.rootId, priority: t.priority },
  };
}

/**
 * Whether a thread is replaced after its task (`maxtasksperchild`,
 * `worker_max_memory_per_child`): null to keep it, else the line to log ('' for none).
 */
export function retireReason(
  slot: ThreadSlot,
  o: { readonly maxTasksPerChild: number | null; readonly maxMemoryPerChild: number | null },
): string | null {
  const mem = o.maxMemoryPerChild;
  if (mem !== null && slot.heapKiB > mem) {
    return `child thread ${String(slot.threadId)} heap ${String(slot.heapKiB)} KiB exceeds the memory limit (${String(mem)} KiB); replacing it`;
  }
  return o.maxTasksPerChild !== null && slot.tasks >= o.maxTasksPerChild ? '' : null;
}

/** `stats()['pool']` with prefork's keys (`celery/concurrency/prefork.py`, `TaskPool._get_info`). */
export function poolStats(
  live: readonly ThreadSlot[],
  maxConcurrency: number,
  o: { readonly maxTasksPerChild: number | null; readonly timeouts: readonly [number, number] },
): Record<string, PyValue> {
  return {
    implementation: 'celery-wire.worker.threads:ThreadPool',
    'max-concurrency': maxConcurrency,
    processes: live.map((s) => s.threadId),
    'max-tasks-per-child': o.maxTasksPerChild ?? 'N/A',
    'put-guarded-by-semaphore': false,
    timeouts: [...o.timeouts],
    writes: writeStats(
      live.map((s) => s.writes),
      live.filter((s) => s.job !== null).length,
    ),
  };
}

function stripFunctions(ctx: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(ctx)) {
    if (typeof v !== 'function' && k !== 'signal') out[k] = v;
  }
  return out;
}
