import { BackendError, CeleryTimeoutError } from '../errors/errors';
import { READY_STATES } from '../protocol/states';
import type { TaskMeta, WaitOptions } from './backend';

/** The abort reason as an Error (`AbortController.abort()` gives a DOMException). */
function abortError(reason: unknown): Error {
  return reason instanceof Error ? reason : new BackendError('wait aborted', { cause: reason });
}

interface Waiter {
  resolve: (meta: TaskMeta) => void;
  reject: (err: Error) => void;
  onState: ((meta: TaskMeta) => void) | undefined;
}

/**
 * Outstanding results and their waiters, the bookkeeping of Celery's `BaseResultConsumer`
 * (`celery/backends/asynchronous.py`, `_pending_results` / `on_state_change`): every state update
 * goes to every waiter's `onState`; a READY state settles them all.
 */
export class PendingResults {
  private readonly waiters = new Map<string, Set<Waiter>>();

  /**
   * @param notConnected why the backend cannot be reached right now, if it cannot: a timeout
   *   then says so (with it as `cause`) instead of only "timed out".
   */
  constructor(private readonly notConnected: () => Error | undefined = () => undefined) {}

  /** Task ids someone is waiting for. */
  ids(): string[] {
    return [...this.waiters.keys()];
  }

  has(taskId: string): boolean {
    return this.waiters.has(taskId);
  }

  /**
   * Register a waiter. `onSettled` runs once the waiter is gone (ready, timeout, abort) with
   * `true` when no other waiter remains for the id, so callers can unsubscribe.
   */
  add(
    taskId: string,
    opts: WaitOptions,
    onSettled: (lastForId: boolean) => void,
  ): Promise<TaskMeta> {
    return new Promise<TaskMeta>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const signal = opts.signal;
      const cleanup = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const set = this.waiters.get(taskId);
        set?.delete(waiter);
        const last = set?.size === 0;
        if (last) this.waiters.delete(taskId);
        onSettled(last);
      };
      const waiter: Waiter = {
        resolve: (m) => {
          cleanup();
          resolve(m);
        },
        reject: (e) => {
          cleanup();
          reject(e);
        },
        onState: opts.onState,
      };
      const onAbort = (): void => {
        waiter.reject(abortError(signal?.reason));
      };
      if (signal?.aborted === true) {
        reject(abortError(signal.reason));
        return;
      }
      let set = this.waiters.get(taskId);
      if (!set) this.waiters.set(taskId, (set = new Set()));
      set.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (opts.timeoutMs !== undefined) {
        const ms = opts.timeoutMs;
        timer = setTimeout(() => {
          const why = this.notConnected();
          const text = `The operation timed out (${String(ms / 1000)}s).`;
          waiter.reject(
            why === undefined
              ? new CeleryTimeoutError(text)
              : new CeleryTimeoutError(
                  `${text} The result backend is not connected: ${why.message}`,
                  {
                    cause: why,
                  },
                ),
          );
        }, ms);
      }
    });
  }

  /** A new state for `taskId`: report it, settle on READY. Returns whether anyone was waiting. */
  deliver(taskId: string, meta: TaskMeta): boolean {
    const set = this.waiters.get(taskId);
    if (!set) return false;
    for (const w of [...set]) {
      try {
        w.onState?.(meta);
      } catch (e) {
        w.reject(
          e instanceof Error ? e : new BackendError('onState callback failed', { cause: e }),
        );
        continue;
      }
      if (READY_STATES.has(meta.status)) w.resolve(meta);
    }
    return true;
  }

  /** Fail one task's waiters (e.g. a document that cannot be decoded). */
  fail(taskId: string, err: Error): void {
    for (const w of [...(this.waiters.get(taskId) ?? [])]) w.reject(err);
  }

  /**
   * `forget(taskId)`: its result is gone, so nobody may wait for it any longer — every waiter is
   * rejected (Celery's would hang until their timeout) and its subscription released through
   * `onSettled`. No waiter outlives its timeout, abort signal, `forget` or the backend's close.
   */
  release(taskId: string): void {
    this.fail(taskId, new BackendError(`result of ${taskId} was forgotten while awaited`));
  }

  /** Waiters now, over all ids (diagnostics and tests of bounded lifetimes). */
  get size(): number {
    let n = 0;
    for (const set of this.waiters.values()) n += set.size;
    return n;
  }

  /** Fail every waiter (backend closed). */
  failAll(err: Error): void {
    for (const id of this.ids()) this.fail(id, err);
  }
}
