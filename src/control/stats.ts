import { PyFloat, type PyValue } from '../serialization/py-values';

/**
 * `WorkController.rusage()` (`celery/worker/worker.py`): `resource.getrusage(RUSAGE_SELF)`'s 16
 * fields, from Node's `process.resourceUsage()` (the same getrusage(2) underneath; times in
 * float seconds, maxrss in kilobytes as Linux reports it).
 */
export function rusage(u: NodeJS.ResourceUsage = process.resourceUsage()): Record<string, PyValue> {
  return {
    utime: new PyFloat(u.userCPUTime / 1e6),
    stime: new PyFloat(u.systemCPUTime / 1e6),
    maxrss: u.maxRSS,
    ixrss: u.sharedMemorySize,
    idrss: u.unsharedDataSize,
    isrss: u.unsharedStackSize,
    minflt: u.minorPageFault,
    majflt: u.majorPageFault,
    nswap: u.swappedOut,
    inblock: u.fsRead,
    oublock: u.fsWrite,
    msgsnd: u.ipcSent,
    msgrcv: u.ipcReceived,
    nsignals: u.signalsCount,
    nvcsw: u.voluntaryContextSwitches,
    nivcsw: u.involuntaryContextSwitches,
  };
}

/**
 * `stats()['pool']` of a pool without its own report: Celery's prefork keys
 * (`celery/concurrency/prefork.py`, `TaskPool._get_info`) for one in-process pool of `limit`
 * slots, the process list being this process.
 */
export function asyncPoolInfo(limit: number, pid: number): Record<string, PyValue> {
  return {
    implementation: 'celery-wire:async',
    'max-concurrency': limit,
    processes: [pid],
    'max-tasks-per-child': 'N/A',
    'put-guarded-by-semaphore': false,
    timeouts: [0, 0],
    writes: {
      total: 0,
      avg: '0.00',
      all: '',
      raw: '',
      strategy: null,
      inqueues: { total: 0, active: 0 },
    },
  };
}
