import type { CeleryLine } from '../config/config';
import { randomUUID } from 'node:crypto';
import type { ResultBackend } from '../backends/backend';
import type { PublishTarget } from '../brokers/broker';
import type { ClientSettings } from '../client/client';
import { BackendError } from '../errors/errors';
import type { TaskInput } from '../protocol/task-input';
import { canvasTaskInput } from './host';
import type { PyValue } from '../serialization/py-values';
import type { CanvasRequest, ProgressionHost } from './progression';

/** What a worker gives {@link workerCanvasHost}. */
export interface WorkerCanvasOptions {
  /** The worker's settings (its `CeleryConfig` fits). */
  config: ClientSettings & { celeryLine: CeleryLine };
  /** `reply_to` of tasks the worker sends (`app.thread_oid`). */
  oid: string;
  /** The worker's publisher (`Worker.publishTask`). */
  publish: (input: TaskInput, target: PublishTarget) => Promise<void>;
  /** `null` when results are disabled: callbacks and errbacks still work, chords cannot. */
  backend: ResultBackend | null;
  uuid?: () => string;
}

/**
 * A {@link ProgressionHost} for a worker: callbacks, chain steps, chord bodies and errbacks are
 * routed and encoded like `send_task` from inside a task, and published by the worker.
 */
export function workerCanvasHost(
  o: WorkerCanvasOptions,
): Omit<ProgressionHost, 'backend'> & { backend: ResultBackend | null } {
  const profile = `celery-${o.config.celeryLine}` as const;
  return {
    uuid: o.uuid ?? randomUUID,
    oid: o.oid,
    profile,
    protocol: o.config.taskProtocol,
    backend: o.backend,
    async sendTask(name, args, kwargs, options) {
      const { input, route } = canvasTaskInput(o.config, profile, name, args, kwargs, options);
      await o.publish(input, {
        exchange: route.exchange,
        routingKey: route.routingKey,
        queue: route.queue,
      });
    },
    async setChordSize(groupId, size) {
      const join = o.backend?.chordJoin;
      if (!join) throw new BackendError('result backend cannot join chords');
      await join.setChordSize(groupId, size);
    },
    ensureChordsAllowed() {
      if (o.backend?.chordJoin) return Promise.resolve();
      return Promise.reject(new BackendError('this result backend does not support chords'));
    },
  };
}

/** The canvas fields of a decoded task message (`DecodedTask`) a worker received. */
export interface ReceivedCanvas {
  id: string;
  headers: Readonly<Record<string, PyValue>>;
  embed: {
    callbacks: readonly PyValue[] | null;
    errbacks: readonly PyValue[] | null;
    chain: readonly PyValue[] | null;
    chord: PyValue;
  };
}

/** The worker request's view progression needs (Celery's `Context` fields). */
export function canvasRequestOf(d: ReceivedCanvas): CanvasRequest {
  const h = d.headers;
  const str = (v: PyValue | undefined): string | null => (typeof v === 'string' ? v : null);
  return {
    id: d.id,
    rootId: str(h.root_id),
    parentId: str(h.parent_id),
    groupId: str(h.group),
    groupIndex: typeof h.group_index === 'number' ? h.group_index : null,
    callbacks: d.embed.callbacks,
    errbacks: d.embed.errbacks,
    chain: d.embed.chain,
    chord: d.embed.chord ?? null,
  };
}
