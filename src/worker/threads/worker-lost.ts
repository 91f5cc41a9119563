import { PythonError } from '../exceptions';

/**
 * `billiard.exceptions.WorkerLostError`: the thread running a task ended without an answer
 * (`process.exit()` in the task, an uncaught error, an out-of-memory abort), worded as
 * `billiard/pool.py`, `Pool.mark_as_worker_lost`.
 */
export class WorkerLostError extends PythonError {
  constructor(exitCode: number, job: number) {
    const msg = `Worker exited prematurely: exitcode ${String(exitCode)} Job: ${String(job)}.`;
    super('WorkerLostError', msg, { excModule: 'billiard.exceptions' });
  }
}
