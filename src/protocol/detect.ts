import { isPyDict, type PyValue } from '../serialization/py-values';

/** Which task-message shape a message has. */
export type TaskMessageKind = 'v2' | 'hybrid' | 'v1' | 'unknown';

/**
 * Classify a message the way the worker does. `celery/worker/consumer/consumer.py`,
 * `on_task_received`: `headers['task']` present → protocol 2, else the decoded body must carry
 * `task` (protocol 1). `celery/worker/strategy.py`, `task_message_handler` (4.4+): a protocol-2
 * message whose body is a dict with `args` is a "hybrid" and goes through `hybrid_to_proto2`.
 */
export function detectTaskMessage(
  headers: Readonly<Record<string, PyValue>>,
  body: PyValue,
): TaskMessageKind {
  if (headers.task !== undefined) return isPyDict(body) && 'args' in body ? 'hybrid' : 'v2';
  return isPyDict(body) && 'task' in body ? 'v1' : 'unknown';
}
