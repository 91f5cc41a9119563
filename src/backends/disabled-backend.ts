import { BackendError } from '../errors/errors';
import type { PyValue } from '../serialization/py-values';
import type { BackendCapabilities, ResultBackend, TaskMeta, WaitOptions } from './backend';

/** `celery/backends/base.py`, `E_NO_BACKEND`. */
export const E_NO_BACKEND =
  'No result backend is configured.\n' + 'Please see the documentation for more information.';

function noBackend(): Promise<never> {
  return Promise.reject(new BackendError(E_NO_BACKEND));
}

/**
 * Celery's `DisabledBackend`: storing is a silent no-op (`store_result` returns), while every
 * attempt to read or wait raises ("No result backend is configured").
 */
export class DisabledBackend implements ResultBackend {
  readonly capabilities: BackendCapabilities = {
    supportsNativeJoin: false,
    persistent: false,
    supportsGroups: false,
  };

  onTaskCall(): Promise<void> {
    return Promise.resolve();
  }

  getTaskMeta(_taskId: string): Promise<TaskMeta> {
    return noBackend();
  }

  waitForResult(_taskId: string, _opts?: WaitOptions): Promise<TaskMeta> {
    return noBackend();
  }

  forget(_taskId: string): Promise<void> {
    return noBackend();
  }

  storeResult(_taskId: string, _result: PyValue, _state: string): Promise<void> {
    return Promise.resolve();
  }

  saveGroup(): Promise<void> {
    return noBackend();
  }

  restoreGroup(): Promise<PyValue> {
    return noBackend();
  }

  deleteGroup(): Promise<void> {
    return noBackend();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
