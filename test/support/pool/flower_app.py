"""The Celery app Flower runs with (`celery -A flower_app flower`) and the Python 5.7 prefork
control workers of test/integration/flower.test.ts and thread-pool.test.ts run: the same task
names as pool-app.ts, so Flower knows them (its rate-limit/timeout API refuses unknown tasks)
and both kinds of worker run them.
"""
import os
import time

from celery import Celery

app = Celery('flower_app', broker=os.environ['CELERY_BROKER_URL'],
             backend=os.environ['CELERY_RESULT_BACKEND'])
app.conf.broker_connection_retry_on_startup = True
# `pool_restart` (Flower's "Restart pool") is refused unless this is on (celery/worker/control.py).
app.conf.worker_pool_restarts = True


@app.task(name='pool.add')
def add(a, b):
    return a + b


@app.task(name='pool.spin')
def spin(ms):
    end = time.monotonic() + ms / 1000
    n = 0
    while time.monotonic() < end:
        n += 1
    return os.getpid()


@app.task(name='pool.forever')
def forever():
    while True:
        pass


def _exit_once(path):
    """Kills its pool child on the first run (a mark in `path`); the run count after that."""
    with open(path, 'a') as f:
        f.write('x')
    with open(path) as f:
        runs = len(f.read())
    if runs == 1:
        os._exit(3)
    return runs


@app.task(name='pool.exitOnce', acks_late=True, reject_on_worker_lost=True)
def exit_once(path):
    return _exit_once(path)


@app.task(name='pool.exitOnceLate', acks_late=True)
def exit_once_late(path):
    return _exit_once(path)


@app.task(name='pool.exitOnceRetry', acks_late=True, retry_on_worker_lost=True,
          default_retry_delay=1)
def exit_once_retry(path):
    return _exit_once(path)


@app.task(name='pool.exitOnceNoAck', acks_late=True, acks_on_failure=False)
def exit_once_no_ack(path):
    return _exit_once(path)
