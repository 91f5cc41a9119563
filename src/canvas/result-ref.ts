/**
 * The result tree a canvas hands back when frozen or applied, before it is bound to a backend:
 * Celery's `AsyncResult(id, parent=…)` and `GroupResult(id, results, parent=…)`.
 */
export type ResultRef = TaskRef | GroupRef;

/** One task's result (`AsyncResult`). */
export interface TaskRef {
  kind: 'task';
  id: string;
  /** The step before it in a chain (Celery's `result.parent`). */
  parent: ResultRef | null;
}

/** A group's result (`GroupResult`): member results in group order. */
export interface GroupRef {
  kind: 'group';
  id: string;
  results: ResultRef[];
  parent: ResultRef | null;
}

/** `AsyncResult(id)`. */
export function taskRef(id: string, parent: ResultRef | null = null): TaskRef {
  return { kind: 'task', id, parent };
}

/** `GroupResult(id, results)`. */
export function groupRef(
  id: string,
  results: ResultRef[],
  parent: ResultRef | null = null,
): GroupRef {
  return { kind: 'group', id, results, parent };
}

/** Every task id in a result tree, the node itself last (`ResultBase._parents` order reversed). */
export function lineage(ref: ResultRef): ResultRef[] {
  const out: ResultRef[] = [];
  const seen = new Set<ResultRef>();
  for (let n: ResultRef | null = ref; n && !seen.has(n); n = n.parent) {
    seen.add(n);
    out.unshift(n);
  }
  return out;
}
