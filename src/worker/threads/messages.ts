import type { PackedError } from './error-transfer';
import type { Packed } from './transfer';

/** What the thread is started with (`workerData`). */
export interface ThreadData {
  /** Absolute path of the app module (`-A`), loaded in the thread to find the handlers. */
  readonly appPath: string;
  /**
   * One Int32: set to 1 by the main thread when the running task's soft limit fires, so that a
   * synchronous loop sees `ctx.signal.aborted` without waiting for the event loop.
   */
  readonly softFlag: SharedArrayBuffer;
}

/** Main → thread. */
export type ToThread =
  | {
      readonly t: 'run';
      readonly job: number;
      readonly name: string;
      readonly bind: boolean;
      readonly args: Packed;
      /** The {@link TaskRequestInfo} of the request (no functions). */
      readonly info: Packed;
      /** `current_worker_task` in the thread: parent of what the body sends. */
      readonly trail: {
        readonly id: string;
        readonly rootId: string | null;
        readonly priority: number | null;
      };
    }
  | { readonly t: 'soft'; readonly job: number }
  | {
      readonly t: 'reply';
      readonly call: number;
      readonly error?: PackedError;
      /** What the call returned (`addToChord`'s task id). */
      readonly value?: Packed;
    };

/** Thread → main. */
export type FromThread =
  /** The app module loaded; `names` are the tasks it defines (others run on the main thread). */
  | { readonly t: 'ready'; readonly names: readonly string[] }
  | { readonly t: 'fatal'; readonly message: string }
  /** `process.exit(code)` was called in the thread (its `exit` event): Python's `SystemExit`. */
  | { readonly t: 'exiting'; readonly code: number }
  | {
      readonly t: 'done';
      readonly job: number;
      readonly value?: Packed;
      readonly error?: PackedError;
      /** V8 heap in use by the thread after the task, KiB (for `maxMemoryPerChild`). */
      readonly heapKiB: number;
      /** Result tuples of what the body sent (`request.children`). */
      readonly children: Packed;
    }
  | {
      readonly t: 'call';
      readonly job: number;
      readonly call: number;
      readonly op: 'retry';
      readonly opts: PackedRetryOptions;
    }
  | {
      readonly t: 'call';
      readonly job: number;
      readonly call: number;
      readonly op: 'updateState';
      readonly state: string;
      readonly meta: Packed;
    }
  | {
      readonly t: 'call';
      readonly job: number;
      readonly call: number;
      /** `ctx.replace` / `ctx.addToChord`: the signature as its dict (`Signature.toDict`). */
      readonly op: 'replace' | 'addToChord';
      readonly sig: Packed;
      readonly lazy?: boolean;
    };

/** `RetryOptions` across the boundary (`exc` as a {@link PackedError}). */
export interface PackedRetryOptions {
  readonly countdown?: number;
  readonly eta?: Date;
  readonly exc?: PackedError;
  readonly maxRetries?: number | null;
  readonly args?: Packed;
  readonly kwargs?: Packed;
}
