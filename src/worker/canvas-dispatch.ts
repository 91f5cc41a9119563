import { randomUUID } from 'node:crypto';
import type { CeleryConfig } from '../app/config';
import type { ResultBackend } from '../backends/backend';
import type { PublishTarget } from '../brokers/broker';
import { prepareException } from '../protocol/exception';
import { FAILURE } from '../protocol/states';
import { resultTuple } from '../protocol/result-meta';
import { parseSignature, type ParsedSignature, type SignatureDict } from '../protocol/signature';
import type { TaskInput } from '../protocol/task-input';
import { isPyDict, type PyValue } from '../serialization/py-values';
import type { WorkerRequest } from './request';

/** Publishes a task message; the worker's `publishTask`. */
export type Publish = (input: TaskInput, target: PublishTarget) => Promise<void>;

const str = (v: PyValue | undefined): string | null => (typeof v === 'string' ? v : null);

/**
 * Where a signature goes: its own `queue`/`exchange`/`routing_key` options, else the default
 * queue. (A Python client would also apply `task_routes`, which only it knows: give callbacks
 * for TypeScript or Python tasks an explicit queue.)
 */
function targetOf(sig: ParsedSignature, config: CeleryConfig): PublishTarget {
  const o = sig.options;
  const q = str(o.queue) ?? (isPyDict(o.queue) ? str(o.queue.name) : null);
  const ex = str(o.exchange);
  const rk = str(o.routing_key);
  if (ex !== null && ex !== '') return { exchange: ex, routingKey: rk ?? q ?? '' };
  const queue = q ?? rk ?? config.taskDefaultQueue;
  return { exchange: '', routingKey: queue, queue: { name: queue } };
}

/** `Signature.apply_async` from inside a task: `_merge` prepends args unless immutable. */
function inputOf(
  sig: ParsedSignature,
  req: WorkerRequest,
  config: CeleryConfig,
  prepend: readonly PyValue[],
  extra: Partial<TaskInput>,
): TaskInput {
  const o = sig.options;
  const h = req.decoded.headers;
  const num = (v: PyValue | undefined): number | null => (typeof v === 'number' ? v : null);
  return {
    task: sig.task,
    id: str(o.task_id) ?? randomUUID(),
    args: sig.immutable ? [...sig.args] : [...prepend, ...sig.args],
    kwargs: { ...sig.kwargs },
    rootId: str(h.root_id) ?? req.id,
    parentId: req.id,
    groupId: str(o.group_id),
    groupIndex: num(o.group_index),
    link: (o.link ?? null) as SignatureDict | SignatureDict[] | null,
    linkError: (o.link_error ?? null) as SignatureDict | SignatureDict[] | null,
    ...(typeof o.countdown === 'number' ? { countdown: o.countdown } : {}),
    ...(typeof o.expires === 'number' || typeof o.expires === 'string'
      ? { expires: o.expires }
      : {}),
    ...(typeof o.priority === 'number' ? { priority: o.priority } : {}),
    serializer: config.taskSerializer,
    compression: config.taskCompression,
    protocol: config.taskProtocol,
    jsonDialect: config.jsonDialect,
    profile: `celery-${config.celeryLine}`,
    ...extra,
  };
}

/**
 * `celery/app/trace.py`, `_dispatch_callbacks_and_chain`, run after success and before SUCCESS is
 * stored: link callbacks get `(retval,)`, several callbacks share a fresh `group` id; then the
 * next chain step gets `(retval,)` and the rest of the chain. Returns the children result
 * tuples for the stored document.
 */
export async function dispatchCallbacks(
  req: WorkerRequest,
  retval: PyValue,
  config: CeleryConfig,
  publish: Publish,
): Promise<PyValue[]> {
  const children: PyValue[] = [];
  const embed = req.decoded.embed;
  const callbacks = (embed.callbacks ?? []).map((c, i) =>
    parseSignature(c, `/callbacks/${String(i)}`),
  );
  const groupId = callbacks.length > 1 ? randomUUID() : null;
  for (const [i, cb] of callbacks.entries()) {
    const input = inputOf(
      cb,
      req,
      config,
      [retval],
      groupId === null ? {} : { groupId, groupIndex: i },
    );
    await publish(input, targetOf(cb, config));
    children.push(resultTuple(input.id));
  }
  const chain = embed.chain ?? [];
  const last = chain.at(-1);
  if (last !== undefined) {
    const next = parseSignature(last, '/chain');
    const input = inputOf(next, req, config, [retval], { chain: chain.slice(0, -1) });
    await publish(input, targetOf(next, config));
    children.push(resultTuple(input.id));
  }
  return children;
}

/**
 * Old-style errbacks (`_call_task_errbacks`): a TypeScript worker cannot run Python errbacks
 * inline, so each is published with the failed task id prepended, as Celery does for errbacks it
 * cannot call in-process.
 */
export async function dispatchErrbacks(
  req: WorkerRequest,
  config: CeleryConfig,
  publish: Publish,
): Promise<void> {
  for (const [i, eb] of (req.decoded.embed.errbacks ?? []).entries()) {
    const sig = parseSignature(eb, `/errbacks/${String(i)}`);
    await publish(inputOf(sig, req, config, [req.id], {}), targetOf(sig, config));
  }
}

/**
 * Chord header member completion (`Backend.on_chord_part_return`, Redis native join, results.md
 * §4.3): success or failure is recorded; whoever completes last publishes the body with the
 * ordered results prepended (`callback.delay(results)`), or fails it with `ChordError`.
 */
export async function chordPartReturn(
  req: WorkerRequest,
  state: string,
  result: PyValue,
  backend: ResultBackend | null,
  config: CeleryConfig,
  publish: Publish,
): Promise<void> {
  const chordSig = req.decoded.embed.chord;
  if (chordSig === null || !backend?.chordJoin) return;
  const join = backend.chordJoin;
  const h = req.decoded.headers;
  await join.onChordPartReturn(
    {
      taskId: req.id,
      groupId: str(h.group),
      groupIndex: typeof h.group_index === 'number' ? h.group_index : null,
      chord: chordSig,
    },
    state,
    result,
    {
      publishBody: async (body, results) => {
        const sig = parseSignature(body, '/chord');
        const extra: Partial<TaskInput> = {};
        const gid = str(sig.options.group_id);
        if (gid !== null) extra.groupId = gid;
        await publish(inputOf(sig, req, config, [results], extra), targetOf(sig, config));
      },
      failBody: async (body, message) => {
        const sig = parseSignature(body, '/chord');
        const id = str(sig.options.task_id);
        if (id === null) return;
        const exc = prepareException({
          excType: 'ChordError',
          excModule: 'celery.exceptions',
          args: [message],
        });
        await backend.storeResult(id, exc, FAILURE, { traceback: null });
      },
    },
  );
}
