import type { PyValue } from '../serialization/py-values';
import {
  etaHeader,
  expiresHeader,
  maybeList,
  timelimitPair,
  type EncodeEnv,
  type TaskInput,
} from './task-input';
import type { TaskMessageParts } from './task-v2';

/**
 * Protocol v1 as `AMQP.as_task_v1` builds it: empty headers and every field in a body dict, in
 * Celery's key order (`task, id, args, kwargs, group, group_index, retries, eta, expires, utc,
 * callbacks, errbacks, timelimit, taskset, chord`). v1 has no root/parent ids, origin or reprs.
 */
export function buildTaskV1(input: TaskInput, env: EncodeEnv): TaskMessageParts {
  const body: Record<string, PyValue> = {
    task: input.task,
    id: input.id,
    args: [...(input.args ?? [])],
    kwargs: { ...(input.kwargs ?? {}) },
    group: input.groupId ?? null,
    group_index: input.groupIndex ?? null,
    retries: input.retries ?? 0,
    eta: etaHeader(input, env.now),
    expires: expiresHeader(input, env.now),
    utc: input.utc ?? true,
    callbacks: maybeList(input.link),
    errbacks: maybeList(input.linkError),
    timelimit: timelimitPair(input),
    taskset: input.groupId ?? null,
    chord: input.chord ?? null,
  };
  return {
    headers: {},
    properties: { correlation_id: input.id, reply_to: input.replyTo ?? env.replyTo },
    body,
  };
}
