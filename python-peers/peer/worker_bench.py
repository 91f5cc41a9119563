"""Worker throughput benchmark helpers (bench/worker.ts).

`produce N QUEUE`: send N conformance.add tasks (ids bench-0..N-1) from real Celery into QUEUE.
`drain QUEUE POOL CONC N`: start a Python Celery worker (solo/prefork) on QUEUE after the queue was
filled, and time until the last task's result exists. Prints JSON {"seconds", "per_s"}.
"""
import json
import os
import subprocess
import sys
import time

import redis

from peer.app import app


def produce(n, queue):
    t0 = time.perf_counter()
    with app.producer_or_acquire() as producer:
        for i in range(n):
            app.send_task('conformance.add', (i, 1), queue=queue, task_id=f'bench-{i}',
                          producer=producer)
    print(json.dumps({'produced': n, 'seconds': time.perf_counter() - t0}))


def drain(queue, pool, conc, n):
    r = redis.Redis.from_url(os.environ['CELERY_RESULT_BACKEND'])
    args = [sys.executable, '-m', 'celery', '-A', 'peer.app', 'worker', '-Q', queue, '-P', pool,
            '--without-mingle', '--without-gossip', '--without-heartbeat', '-l', 'warning',
            '-n', f'bench-{pool}-{os.getpid()}@%h']
    if pool == 'prefork':
        args += ['-c', str(conc)]
    env = dict(os.environ, CELERY_SEND_EVENTS='0')
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    last = f'celery-task-meta-bench-{n - 1}'
    first = 'celery-task-meta-bench-0'
    t_first = None
    try:
        while not r.exists(last):
            if t_first is None and r.exists(first):
                t_first = time.perf_counter()
            time.sleep(0.005)
        t1 = time.perf_counter()
    finally:
        proc.terminate()
        proc.wait()
    # Time from the first result to the last one excludes interpreter and worker start-up.
    start = t_first if t_first is not None else t0
    secs = t1 - start
    print(json.dumps({'seconds': secs, 'per_s': (n - 1) / secs if secs > 0 else 0,
                      'startup': start - t0}))


if __name__ == '__main__':
    cmd = sys.argv[1]
    if cmd == 'produce':
        produce(int(sys.argv[2]), sys.argv[3])
    else:
        drain(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
