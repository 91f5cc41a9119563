import type { PublishItem } from '../brokers/broker';
import type { WorkerInstrumentation } from '../worker/instrumentation';
import type { TraceOutcome } from '../worker/tracer';

/** One task message about to be published, as an instrumentation sees it. */
export interface PublishedTask {
  /** `headers['task']`. */
  readonly task: string;
  /** `headers['id']`. */
  readonly id: string;
  readonly item: PublishItem;
}

/** What an instrumentation does around one publish: the item to send instead, and its end. */
export interface PublishScope {
  /** The item to publish (e.g. with `traceparent` added); the original when absent. */
  readonly item?: PublishItem;
  /** Called once the broker accepted the message (`after_task_publish`) or refused it. */
  end(error?: unknown): void;
}

/**
 * Observers of an app's clients and workers: around each task message published (Celery's
 * `before_task_publish`/`after_task_publish`, for every publisher: client, canvas, worker
 * retries and callbacks) and the worker's run and event hooks. Built by `otelInstrumentation()`
 * and `prometheusInstrumentation()`; combine several with {@link composeInstrumentation}.
 */
export interface Instrumentation extends WorkerInstrumentation {
  /** Before a task message is published; `undefined` = nothing to do for it. */
  publish?(task: PublishedTask): PublishScope | undefined;
}

/** Several instrumentations as one; publish scopes nest in order, run wrappers too. */
export function composeInstrumentation(list: readonly Instrumentation[]): Instrumentation {
  if (list.length === 1 && list[0]) return list[0];
  return {
    publish(task) {
      const ends: PublishScope[] = [];
      let item = task.item;
      for (const i of list) {
        const scope = i.publish?.({ ...task, item });
        if (!scope) continue;
        ends.push(scope);
        if (scope.item) item = scope.item;
      }
      return {
        item,
        end: (error?: unknown) => {
          for (const s of ends.reverse()) s.end(error);
        },
      };
    },
    run(req, run) {
      let wrapped: () => Promise<TraceOutcome> = run;
      for (const i of [...list].reverse()) {
        const inner = wrapped;
        if (i.run) wrapped = () => (i.run ? i.run(req, inner) : inner());
      }
      return wrapped();
    },
    event(type, fields, req) {
      for (const i of list) i.event?.(type, fields, req);
    },
  };
}
