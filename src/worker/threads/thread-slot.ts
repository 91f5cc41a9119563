import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker as NodeWorker } from 'node:worker_threads';
import type { FromThread, ThreadData, ToThread } from './messages';

/** The thread entry next to this file: built `.js`, or the `.ts` source under tsx (tests). */
function entry(): { file: string; execArgv: string[] } {
  const js = join(__dirname, 'thread-main.js');
  if (existsSync(js)) return { file: js, execArgv: [] };
  return { file: join(__dirname, 'thread-main.ts'), execArgv: ['--require', 'tsx/cjs'] };
}

/** How a thread ended while it ran a task: an exit code (`human_status` wording). */
export interface ThreadExit {
  readonly code: number;
  readonly error: Error | null;
  /** The thread called `process.exit()` (no uncaught error): Python's `SystemExit`. */
  readonly exitCalled: boolean;
}

/**
 * One pool thread (a prefork child): its `Worker`, the shared soft-limit flag, and the counts the
 * pool needs (tasks run, heap after the last task). Events go to the pool through callbacks.
 */
export class ThreadSlot {
  readonly worker: NodeWorker;
  readonly softFlag = new Int32Array(new SharedArrayBuffer(4));
  /** The job running here, if any. */
  job: number | null = null;
  ready = false;
  /** Tasks run by this thread (`maxtasksperchild`). */
  tasks = 0;
  /** Jobs written to this thread (`writes.raw`). */
  writes = 0;
  heapKiB = 0;
  /** Retiring: no new job; terminated once idle. */
  retiring = false;
  /** We called terminate(): the exit is ours, not a crash. */
  killed = false;
  private lastError: Error | null = null;
  private exitCalled = false;
  private readonly id: number;

  constructor(
    appPath: string,
    onMessage: (slot: ThreadSlot, m: FromThread) => void,
    onExit: (slot: ThreadSlot, exit: ThreadExit) => void,
  ) {
    const { file, execArgv } = entry();
    const data: ThreadData = { appPath, softFlag: this.softFlag.buffer };
    this.worker = new NodeWorker(file, { workerData: data, execArgv });
    this.id = this.worker.threadId;
    this.worker.on('message', (m: FromThread) => {
      if (m.t === 'exiting') {
        this.exitCalled = true;
        return;
      }
      if (m.t === 'ready') this.ready = true;
      onMessage(this, m);
    });
    this.worker.on('error', (e) => {
      this.lastError = e;
    });
    this.worker.on('exit', (code) => {
      const exitCalled = this.exitCalled && this.lastError === null;
      onExit(this, { code, error: this.lastError, exitCalled });
    });
  }

  /** The thread's id (kept: `Worker.threadId` reads -1 once it exited). */
  get threadId(): number {
    return this.id;
  }

  send(m: ToThread): void {
    this.worker.postMessage(m);
  }

  /** Soft limit: the flag (for synchronous loops) and the message (for the signal's listeners). */
  soft(job: number): void {
    Atomics.store(this.softFlag, 0, 1);
    this.send({ t: 'soft', job });
  }

  /** Hard limit / terminate / shrink: stop the thread even inside `while (true) {}`. */
  kill(): Promise<number> {
    this.killed = true;
    return this.worker.terminate();
  }
}
