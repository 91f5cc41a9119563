"""The conformance task catalogue (/work/shared/spec/conformance-tasks.md), names ``conformance.*``."""
import builtins
import os
import signal
import time

import redis
from celery.exceptions import MaxRetriesExceededError  # noqa: F401 - raised by Task.retry

from peer.app import app


@app.task(name='conformance.add')
def add(x, y):
    return x + y


@app.task(name='conformance.mul')
def mul(x, y):
    return x * y


@app.task(name='conformance.identity')
def identity(value):
    return value


@app.task(name='conformance.echo')
def echo(*args, **kwargs):
    return {'args': list(args), 'kwargs': kwargs}


@app.task(name='conformance.tsum')
def tsum(values):
    return sum(values)


@app.task(name='conformance.fail')
def fail(exc_type='ValueError', message='boom'):
    cls = getattr(builtins, exc_type, None)
    if not (isinstance(cls, type) and issubclass(cls, BaseException)):
        raise TypeError(f'not a builtin exception: {exc_type}')
    raise cls(message)


@app.task(name='conformance.sleep')
def sleep(seconds):
    # Short slices so soft time limits (SoftTimeLimitExceeded) and revoke/terminate land promptly.
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(min(0.05, max(0.0, end - time.monotonic())))
    return seconds


@app.task(name='conformance.retry', bind=True, max_retries=3)
def retry(self, times, countdown=0):
    if self.request.retries < times:
        raise self.retry(countdown=countdown)
    return self.request.retries


@app.task(name='conformance.progress', bind=True)
def progress(self, steps):
    for i in range(1, steps + 1):
        self.update_state(state='PROGRESS', meta={'current': i, 'total': steps})
    return steps


@app.task(name='conformance.context', bind=True)
def context(self):
    r = self.request
    di = r.delivery_info or {}
    return {
        'id': r.id, 'task': r.task, 'root_id': r.root_id, 'parent_id': r.parent_id,
        'group': r.group, 'group_index': getattr(r, 'group_index', None), 'retries': r.retries,
        'eta': r.eta, 'expires': r.expires, 'correlation_id': r.correlation_id,
        'reply_to': r.reply_to, 'delivery_info': {'exchange': di.get('exchange'),
                                                  'routing_key': di.get('routing_key'),
                                                  'priority': di.get('priority')},
        'hostname': r.hostname, 'args': list(r.args or []), 'kwargs': r.kwargs or {},
        'timelimit': list(r.timelimit) if r.timelimit else None, 'shadow': getattr(r, 'shadow', None),
    }


@app.task(name='conformance.ignored', ignore_result=True)
def ignored():
    return None


@app.task(name='conformance.crash_once', acks_late=True, reject_on_worker_lost=True)
def crash_once(marker):
    url = os.environ.get('CONFORMANCE_REDIS_URL', os.environ.get('CELERY_RESULT_BACKEND', ''))
    if not url.startswith('redis'):
        url = 'redis://127.0.0.1:6379/0'
    r = redis.Redis.from_url(url)
    if r.set(f'conformance:crash:{marker}', '1', nx=True):
        os.kill(os.getpid(), signal.SIGKILL)   # die at once: no ack, no cleanup
    return 'survived'
