import { PythonError } from '../exceptions';

/**
 * `billiard.exceptions.WorkerLostError`: the thread running a task ended without an answer.
 * An uncaught error or an out-of-memory abort is a child that died, worded as `billiard/pool.py`,
 * `Pool.mark_as_worker_lost` (`… exitcode N Job: J.`); `process.exit(n)` in the task is a task
 * raising `SystemExit(n)`, which Celery 5.7 words without the job (`celery/worker/request.py`,
 * `Request._worker_lost_info`: `… exitcode N.`) — `job` is then null.
 */
export class WorkerLostError extends PythonError {
  constructor(exitCode: number, job: number | null) {
    const tail = job === null ? '' : ` Job: ${String(job)}`;
    const msg = `Worker exited prematurely: exitcode ${String(exitCode)}${tail}.`;
    super('WorkerLostError', msg, { excModule: 'billiard.exceptions' });
  }
}
