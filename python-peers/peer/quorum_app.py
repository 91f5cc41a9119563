"""Quorum-queue estate peer (issue 9): a real Celery app whose default queue is a quorum queue.

Env: CELERY_BROKER_URL, CELERY_RESULT_BACKEND, QUORUM_QUEUE (default queue name),
QUORUM_EXCHANGE_TYPE (topic|direct, default topic), QUORUM_QUEUE_TYPE (quorum|classic).
As a worker: ``python -m celery -A peer.quorum_app worker -Q <queue> -P solo``.
As a producer: ``python -m peer.quorum_app`` with JSON on stdin
``{"calls": [{"task": ..., "args": [...], "countdown": n}], "timeout": s}`` (or a call
``{"canvas": "chain"|"group"|"chord", "steps": [[task, args], ...], "body": [task, args]}``); prints one JSON line
``{"results": [{"id", "state", "value", "published"}]}``.
"""
import json
import os
import sys
import time

from celery import Celery

QUEUE = os.environ.get('QUORUM_QUEUE', 'quorum-default')
app = Celery(
    'quorum',
    broker=os.environ.get('CELERY_BROKER_URL', 'amqp://guest:guest@127.0.0.1:5672//'),
    backend=os.environ.get('CELERY_RESULT_BACKEND', 'redis://127.0.0.1:6379/11'),
)
app.conf.update(
    task_default_queue=QUEUE,
    task_default_exchange=QUEUE,
    task_default_routing_key=QUEUE,
    task_default_exchange_type=os.environ.get('QUORUM_EXCHANGE_TYPE', 'topic'),
    task_default_queue_type=os.environ.get('QUORUM_QUEUE_TYPE', 'quorum'),
    broker_transport_options={'confirm_publish': True},
    worker_send_task_events=False,
    task_send_sent_event=False,
    broker_connection_retry_on_startup=True,
)


@app.task(name='quorum.add')
def add(x, y):
    return x + y


@app.task(name='quorum.tsum')
def tsum(values):
    """A chord body: the sum of the header's results."""
    return sum(values)


def _where(request):
    di = request.delivery_info or {}
    return {'at': time.time(), 'exchange': di.get('exchange'), 'routing_key': di.get('routing_key'),
            'retries': request.retries, 'host': request.hostname}


@app.task(name='quorum.where', bind=True)
def where(self):
    """When and through which exchange/routing key the task arrived."""
    return _where(self.request)


@app.task(name='quorum.flaky', bind=True)
def flaky(self, countdown):
    """Retries once with ``countdown``; then reports like ``quorum.where``."""
    if self.request.retries < 1:
        raise self.retry(countdown=countdown)
    return _where(self.request)


def _canvas(c):
    """``{"canvas": "chain"|"group"|"chord", "steps": [[task, args], ...], "body": [task, args]}``."""
    from celery import chain, chord, group, signature
    steps = [signature(t, args=a, app=app) for t, a in c['steps']]
    if c['canvas'] == 'chain':
        return chain(*steps)
    if c['canvas'] == 'group':
        return group(steps)
    return chord(steps, signature(c['body'][0], args=c['body'][1], app=app))


def main():
    req = json.load(sys.stdin)
    sent = []
    for c in req['calls']:
        opts = {}
        if 'countdown' in c:
            opts['countdown'] = c['countdown']
        if 'canvas' in c:
            r = _canvas(c).apply_async(**opts)
        else:
            r = app.send_task(c['task'], args=c.get('args', []), **opts)
        sent.append((r, time.time()))
    def state(r):
        # A GroupResult has no state of its own: SUCCESS once every member succeeded.
        if hasattr(r, 'state'):
            return r.state
        return 'SUCCESS' if r.successful() else 'PENDING'

    out = []
    for r, published in sent:
        try:
            value = r.get(timeout=req.get('timeout', 60))
            out.append({'id': r.id, 'state': state(r), 'value': value, 'published': published})
        except Exception as e:  # noqa: BLE001 - reported to the test
            out.append({'id': r.id, 'state': state(r), 'error': repr(e), 'published': published})
    print(json.dumps({'results': out}))


if __name__ == '__main__':
    main()
