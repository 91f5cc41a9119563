import {
  ContentDisallowedError,
  DecodeError,
  MessageTooLargeError,
  SerializerNotInstalledError,
} from '../errors/errors';
import type { RawMessage } from '../protocol/raw-message';
import {
  decodeTaskMessage,
  loadMessageBody,
  type BodyLimits,
  type DecodedTask,
} from '../protocol/task-decode';
import { isPyDict, type PyValue } from '../serialization/py-values';
import type { TaskDefinition, TaskRegistry } from './task';

/** What to do with an incoming message (`Consumer.on_task_received`, behaviour.md §2/§11). */
export type Receipt =
  | { kind: 'task'; decoded: DecodedTask; def: TaskDefinition }
  /** `on_unknown_task`: store NotRegistered, task-failed, reject(requeue=False). */
  | {
      kind: 'unknown';
      id: string | null;
      name: string;
      rootId: string | null;
      replyTo: string | null;
      correlationId: string | null;
    }
  /** `on_invalid_task`: reject(requeue=False), nothing stored. */
  | { kind: 'invalid'; id: string | null; error: Error }
  /** `on_decode_error`: ack, nothing stored. */
  | { kind: 'decode-error'; error: Error }
  /** `on_unknown_message`: reject(requeue=False). */
  | { kind: 'unknown-format' };

const str = (v: PyValue | undefined): string | null => (typeof v === 'string' ? v : null);

function isDecodeFailure(e: unknown): boolean {
  return (
    e instanceof DecodeError ||
    e instanceof ContentDisallowedError ||
    e instanceof SerializerNotInstalledError
  );
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/**
 * Classify a message as Celery's consumer does. The task name is looked up *before* the body is
 * decoded for protocol 2 (the body is only decoded in the pool), so an unknown task with a
 * pickle body is NotRegistered, not ContentDisallowed. v1 bodies are decoded first; any decode
 * failure there is `on_decode_error` (ack).
 */
export function classify(
  raw: RawMessage,
  registry: TaskRegistry,
  accept: readonly string[],
  limits: BodyLimits = {},
): Receipt {
  const headers: unknown = raw.headers;
  if (!isPyDict(headers)) return { kind: 'unknown-format' };
  const props = raw.properties;
  if (raw.headers.task !== undefined) {
    const name = raw.headers.task;
    const id = str(raw.headers.id);
    if (typeof name !== 'string') {
      return { kind: 'invalid', id, error: new Error('task header is not a string') };
    }
    const def = registry.get(name);
    if (!def) {
      return {
        kind: 'unknown',
        id,
        name,
        rootId: str(raw.headers.root_id),
        replyTo: str(props.reply_to),
        correlationId: str(props.correlation_id),
      };
    }
    try {
      return { kind: 'task', decoded: decodeTaskMessage(raw, { accept, ...limits }), def };
    } catch (e) {
      // `Request.__init__` → `message.payload`: DecodeError → on_decode_error (ack); disallowed
      // content and schema errors → on_invalid_task (reject).
      if (e instanceof DecodeError) return { kind: 'decode-error', error: e };
      return { kind: 'invalid', id, error: asError(e) };
    }
  }
  let payload: PyValue;
  try {
    payload = loadMessageBody(raw, { accept, ...limits });
  } catch (e) {
    // Over a size cap: dead-lettered (reject, no requeue), never acked away as undecodable.
    if (e instanceof MessageTooLargeError) return { kind: 'invalid', id: null, error: e };
    return { kind: 'decode-error', error: asError(e) };
  }
  if (!isPyDict(payload) || typeof payload.task !== 'string') return { kind: 'unknown-format' };
  const def = registry.get(payload.task);
  const id = str(payload.id);
  if (!def) {
    return {
      kind: 'unknown',
      id,
      name: payload.task,
      rootId: null,
      replyTo: str(props.reply_to),
      correlationId: str(props.correlation_id),
    };
  }
  try {
    return { kind: 'task', decoded: decodeTaskMessage(raw, { accept, ...limits }), def };
  } catch (e) {
    if (isDecodeFailure(e)) return { kind: 'decode-error', error: asError(e) };
    return { kind: 'invalid', id, error: asError(e) };
  }
}
