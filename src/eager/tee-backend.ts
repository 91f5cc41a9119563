import type {
  BackendCapabilities,
  ResultBackend,
  StoreOptions,
  TaskMeta,
  WaitOptions,
} from '../backends/backend';
import type { PyValue } from '../serialization/py-values';

/**
 * The backend an eager run writes to: always its own in-memory record (the `EagerResult` is read
 * from it), and also the app's backend when `task_store_eager_result` is on and the result is
 * not ignored (`celery/app/trace.py`, `build_tracer`: `store_result` for eager tasks only with
 * `task_store_eager_result`).
 */
export class TeeBackend implements ResultBackend {
  readonly capabilities: BackendCapabilities;

  constructor(
    private readonly own: ResultBackend,
    private readonly also: ResultBackend | null,
  ) {
    this.capabilities = own.capabilities;
  }

  onTaskCall(taskId: string): Promise<void> {
    return this.own.onTaskCall(taskId);
  }

  getTaskMeta(taskId: string): Promise<TaskMeta> {
    return this.own.getTaskMeta(taskId);
  }

  waitForResult(taskId: string, opts?: WaitOptions): Promise<TaskMeta> {
    return this.own.waitForResult(taskId, opts);
  }

  forget(taskId: string): Promise<void> {
    return this.own.forget(taskId);
  }

  async storeResult(
    taskId: string,
    result: PyValue,
    state: string,
    opts?: StoreOptions,
  ): Promise<void> {
    await this.own.storeResult(taskId, result, state, opts);
    await this.also?.storeResult(taskId, result, state, opts);
  }

  saveGroup(groupId: string, groupTuple: PyValue): Promise<void> {
    return this.own.saveGroup(groupId, groupTuple);
  }

  restoreGroup(groupId: string): Promise<PyValue> {
    return this.own.restoreGroup(groupId);
  }

  deleteGroup(groupId: string): Promise<void> {
    return this.own.deleteGroup(groupId);
  }

  close(): Promise<void> {
    return this.own.close();
  }
}
