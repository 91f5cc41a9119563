import type { PyValue } from '../serialization/py-values';
import { ALL_HEADER_KEYS, getProfile } from './profiles';
import { PyTupleView } from './repr';
import { saferepr } from './saferepr';
import {
  etaHeader,
  expiresHeader,
  maybeList,
  timelimitPair,
  type EncodeEnv,
  type TaskInput,
} from './task-input';

/** What a protocol builder returns before serialization (`celery/app/amqp.py`, `task_message`). */
export interface TaskMessageParts {
  headers: Record<string, PyValue>;
  /** `correlation_id` and `reply_to`, in that order. */
  properties: Record<string, PyValue>;
  body: PyValue;
}

/** The newest line's header keys: exactly the keys, in the order, of `all` below. */
const FULL_HEADER_KEYS = ALL_HEADER_KEYS;

/** Celery's 1024-character cap on argsrepr/kwargsrepr (`AMQP.argsrepr_maxsize`). */
export const REPR_MAXSIZE = 1024;

/**
 * Protocol v2 headers, properties and body exactly as `AMQP.as_task_v2` builds them: every header
 * of the profile present (null when unused) in Celery's insertion order; body
 * `[args, kwargs, {callbacks, errbacks, chain, chord}]`.
 */
export function buildTaskV2(input: TaskInput, env: EncodeEnv): TaskMessageParts {
  const profile = getProfile(input.profile);
  const args = [...(input.args ?? [])];
  const kwargs = { ...(input.kwargs ?? {}) };
  const maxlevels = input.reprMaxLevels ?? 3;
  const argsrepr =
    input.argsrepr ??
    saferepr(input.argsAreList === true ? args : new PyTupleView(args), {
      maxlen: REPR_MAXSIZE,
      maxlevels,
    });
  const kwargsrepr = input.kwargsrepr ?? saferepr(kwargs, { maxlen: REPR_MAXSIZE, maxlevels });
  const stampNames = input.stamps === undefined ? null : Object.keys(input.stamps);
  const all: Record<string, PyValue> = {
    lang: 'py',
    task: input.task,
    id: input.id,
    shadow: input.shadow ?? null,
    eta: etaHeader(input, env.now),
    expires: expiresHeader(input, env.now),
    group: input.groupId ?? null,
    group_index: input.groupIndex ?? null,
    retries: input.retries ?? 0,
    timelimit: timelimitPair(input),
    // `if not root_id: root_id = task_id` (an empty string counts as missing)
    root_id:
      input.rootId === undefined || input.rootId === null || input.rootId === ''
        ? input.id
        : input.rootId,
    parent_id: input.parentId ?? null,
    argsrepr,
    kwargsrepr,
    origin: input.origin ?? env.origin,
    ignore_result:
      input.ignoreResult === undefined ? profile.ignoreResultDefault : input.ignoreResult,
    replaced_task_nesting: input.replacedTaskNesting ?? 0,
    stamped_headers: stampNames,
    stamps: { ...(input.stamps ?? {}) },
  };
  let headers: Record<string, PyValue>;
  if (profile.headerKeys === FULL_HEADER_KEYS) {
    // `all` is already in this profile's order: only undefined values need to become null.
    for (const k in all) if (all[k] === undefined) all[k] = null;
    headers = all;
  } else {
    headers = {};
    for (const k of profile.headerKeys) headers[k] = all[k] ?? null;
  }
  return {
    headers,
    properties: { correlation_id: input.id, reply_to: input.replyTo ?? env.replyTo },
    body: [
      args,
      kwargs,
      {
        callbacks: maybeList(input.link),
        errbacks: maybeList(input.linkError),
        chain: input.chain ? [...input.chain] : null,
        chord: input.chord ?? null,
      },
    ],
  };
}
