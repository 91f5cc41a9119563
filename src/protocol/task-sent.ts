import type { PyValue } from '../serialization/py-values';
import { PyTupleView } from './repr';
import { saferepr } from './saferepr';
import type { EncodeEnv, TaskInput } from './task-input';
import { buildTaskV1 } from './task-v1';
import { buildTaskV2 } from './task-v2';

/** Where the message went, as `send_task_message` names it for the event. */
export interface SentDestination {
  /** `qname`: the queue's name, `null` when routed by exchange alone. */
  readonly queue: string | null;
  readonly exchange: string;
  readonly routingKey: string;
}

/**
 * The `task-sent` event fields of one task message (`task_send_sent_event`): the `sent_event`
 * dict `AMQP.as_task_v2` / `as_task_v1` build (`celery/app/amqp.py`), updated with `queue`,
 * `exchange`, `routing_key` by `send_task_message`. v2 reuses the message's own reprs and
 * eta/expires strings; v1 has no root/parent ids and reprs the args tuple unbounded.
 */
export function taskSentFields(
  input: TaskInput,
  env: EncodeEnv,
  dest: SentDestination,
): Record<string, PyValue> {
  const where = { queue: dest.queue, exchange: dest.exchange, routing_key: dest.routingKey };
  if (input.protocol === 1) {
    const body = buildTaskV1(input, env).body as Record<string, PyValue>;
    return {
      uuid: input.id,
      name: input.task,
      args: saferepr(
        input.argsAreList === true ? (input.args ?? []) : new PyTupleView(input.args ?? []),
      ),
      kwargs: saferepr(input.kwargs ?? {}),
      retries: body.retries ?? 0,
      eta: body.eta ?? null,
      expires: body.expires ?? null,
      ...where,
    };
  }
  const h = buildTaskV2(input, env).headers;
  return {
    uuid: input.id,
    root_id: h.root_id ?? null,
    parent_id: h.parent_id ?? null,
    name: input.task,
    args: h.argsrepr ?? null,
    kwargs: h.kwargsrepr ?? null,
    retries: h.retries ?? 0,
    eta: h.eta ?? null,
    expires: h.expires ?? null,
    ...where,
  };
}
