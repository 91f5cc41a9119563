"""django-celery-results peer: Celery 5.7 + Django + django-celery-results 2.6, `result_backend =
'django-db'` on the database of $DJANGO_DB_URL (tables from its migrations).

  python -m peer.django_peer.app migrate
  python -m peer.django_peer.app worker              # serves $PY_QUEUE
  python -m peer.django_peer.app produce TASK ARGS   # apply_async, .get(propagate=False), JSON out
  python -m peer.django_peer.app read TASK_ID        # backend.get_task_meta, JSON out
  python -m peer.django_peer.app save-group GID ID…  # GroupResult(GID, [AsyncResult(ID)…]).save()
  python -m peer.django_peer.app restore-group GID   # GroupResult.restore(GID) ids, JSON out
"""
import json
import os
import sys

os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'peer.django_peer.settings')
import django  # noqa: E402

django.setup()

from celery import Celery  # noqa: E402
from celery.result import AsyncResult, GroupResult  # noqa: E402

PY_QUEUE = os.environ.get('PY_QUEUE', 'dj-py')
TS_QUEUE = os.environ.get('TS_QUEUE', 'dj-ts')

app = Celery('django_peer', broker=os.environ['CELERY_BROKER_URL'], backend='django-db')
app.conf.update(
    result_extended=os.environ.get('CELERY_RESULT_EXTENDED', '') == '1',
    task_default_queue=PY_QUEUE,
    task_routes={'dj.ts_*': {'queue': TS_QUEUE}},
    broker_connection_retry_on_startup=True,
)


@app.task(name='dj.add')
def add(x, y):
    return x + y


@app.task(name='dj.fail')
def fail():
    raise ValueError('py boom')


@app.task(name='dj.ts_add')
def ts_add(x, y):  # served by the TypeScript worker
    raise NotImplementedError


@app.task(name='dj.ts_fail')
def ts_fail():  # served by the TypeScript worker
    raise NotImplementedError


def meta_json(meta):
    res = meta.get('result')
    return json.dumps({
        'status': meta.get('status'),
        'result': res if isinstance(res, (int, str, list, dict, type(None))) else repr(res),
        'exc_type': type(res).__name__ if isinstance(res, BaseException) else None,
        'traceback': meta.get('traceback'),
        'name': meta.get('task_name'),
        'args': meta.get('args'),
        'kwargs': meta.get('kwargs'),
        'worker': meta.get('worker'),
        'children': meta.get('children'),
    })


if __name__ == '__main__':
    mode = sys.argv[1]
    if mode == 'migrate':
        from django.core.management import call_command
        call_command('migrate', 'django_celery_results', verbosity=0)
    elif mode == 'worker':
        app.worker_main(['worker', '-Q', PY_QUEUE, '-P', 'solo', '-l', 'info',
                         '-n', f'dj-{PY_QUEUE}@%h',
                         '--without-gossip', '--without-mingle', '--without-heartbeat'])
    elif mode == 'produce':
        r = app.tasks[sys.argv[2]].apply_async(json.loads(sys.argv[3]))
        r.get(timeout=60, propagate=False)
        print(json.dumps({'task_id': r.id}))
        print(meta_json(app.backend.get_task_meta(r.id)))
    elif mode == 'read':
        print(meta_json(app.backend.get_task_meta(sys.argv[2])))
    elif mode == 'save-group':
        GroupResult(sys.argv[2], [AsyncResult(i, app=app) for i in sys.argv[3:]], app=app).save()
    elif mode == 'restore-group':
        g = GroupResult.restore(sys.argv[2], app=app)
        print(json.dumps(None if g is None else [r.id for r in g.results]))
    else:
        sys.exit(f'unknown mode {mode}')
