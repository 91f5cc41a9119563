import { runAsWorkerTask, type CurrentWorkerTask } from '../client/current-task';
import type { WorkerRequest } from './request';
import type { TaskContext } from './task';

/**
 * Where a task body runs: the seam between the tracer (states, results, canvas) and the pool
 * (in-process or worker threads). The tracer owns everything around the call; the executor
 * only runs `handler(...)` and settles with its return value or its error.
 */
export interface TaskExecutor {
  run(call: TaskCall): Promise<unknown>;
}

/** One body call: the bound positional args and, for `bind=True`, the context factory. */
export interface TaskCall {
  readonly req: WorkerRequest;
  readonly args: readonly unknown[];
  /** Aborted on soft limit, hard limit or terminate. */
  readonly signal: AbortSignal;
  /** Builds the `self` of a bound task (only called when the task is bound). */
  readonly context: () => TaskContext;
  /**
   * The running task as what its body sends sees it (`current_worker_task`): the executor runs
   * the body inside it, and what the body sent lands in its `children`.
   */
  readonly trail: CurrentWorkerTask;
}

/** The in-process executor (`-P solo`/`threads` in Celery's words): calls the handler here. */
export const inlineExecutor: TaskExecutor = {
  run(call: TaskCall): Promise<unknown> {
    return Promise.resolve().then(() => {
      const { req } = call;
      const handler = req.def.handler as (...a: unknown[]) => unknown;
      return runAsWorkerTask(call.trail, () =>
        req.def.options.bind === true
          ? handler(call.context(), ...call.args)
          : handler(...call.args),
      );
    });
  },
};
