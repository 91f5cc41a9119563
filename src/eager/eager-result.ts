import type { TaskMeta } from '../backends/backend';
import { errorOf, type GetOptions, type ResultHost } from '../client/async-result';
import { CanvasTaskResult, type CanvasResult } from '../canvas/results';
import { exceptionFromDict, prepareException } from '../protocol/exception';
import { PROPAGATE_STATES, REVOKED, SUCCESS } from '../protocol/states';
import type { PyValue } from '../serialization/py-values';

/**
 * Celery's `EagerResult` (`celery/result.py`): the outcome of a task run in process, known when
 * the call returns. `state`, `result`, `traceback` come from the run, never from a backend;
 * `ready()` is always true; `get()` returns the value or throws the failure (`propagate`), never
 * waits; `forget()` does nothing; `revoke()` turns it into REVOKED with a
 * `TaskRevokedError('revoked')` result and no traceback (Celery 5.7.0).
 */
export class EagerResult<R = PyValue> extends CanvasTaskResult<R> {
  private doc: TaskMeta;

  constructor(
    id: string,
    meta: TaskMeta,
    private readonly resultHost: ResultHost,
    /** The task name (`EagerResult._name`). */
    readonly name: string,
    parent: CanvasResult | null = null,
  ) {
    super(id, resultHost, parent);
    this.doc = meta;
  }

  /** This result with another `parent` (`res.parent = last` in `_chain.apply`). */
  withParent(parent: CanvasResult | null): EagerResult<R> {
    return new EagerResult<R>(this.id, this.doc, this.resultHost, this.name, parent);
  }

  /** The run's document: `status`, `result`, `traceback` (`EagerResult._cache`). */
  override meta(): Promise<TaskMeta> {
    return Promise.resolve(this.doc);
  }

  override ready(): Promise<boolean> {
    return Promise.resolve(true);
  }

  /**
   * `EagerResult.get`: SUCCESS → the value; FAILURE/REVOKED → throw (`TaskFailedError` /
   * `TaskRevokedError`, as `AsyncResult.get` throws them) or, with `propagate: false`, the stored
   * exception document; any other state (`REJECTED`, `IGNORED`) → the result as is.
   */
  override get(opts: GetOptions = {}): Promise<R> {
    const m = this.doc;
    if (m.status !== SUCCESS && PROPAGATE_STATES.has(m.status) && (opts.propagate ?? true)) {
      const err = errorOf(this.id, m);
      if (err) return Promise.reject(err);
    }
    return Promise.resolve(m.result as R);
  }

  override forget(): Promise<void> {
    return Promise.resolve();
  }

  override revoke(): Promise<void> {
    const exc = prepareException({
      excType: 'TaskRevokedError',
      excModule: 'celery.exceptions',
      args: ['revoked'],
    });
    this.doc = {
      ...this.doc,
      status: REVOKED,
      result: exc,
      traceback: null,
      error: exceptionFromDict(exc),
      raw: { ...this.doc.raw, status: REVOKED, result: exc, traceback: null },
    };
    return Promise.resolve();
  }
}
