"""Tasks that send tasks from their bodies (issue 11: `current_worker_task`, `add_to_parent`).

`parent.py_spawn` runs on this Python worker and sends three things the way Celery users do:
`send_task`, `signature.delay()` and a group. `parent.*_leaf` reports the root/parent ids it
was sent with. The TypeScript worker serves `parent.ts_*` (test/support/parent/app.ts).
Run: `python -m celery -A peer.parent_peer worker -Q <PARENT_PY_QUEUE>`;
`python -m peer.parent_peer children <task id>` prints what Python's `AsyncResult.children` reads.
"""
import json
import os
import sys

from celery import Celery, group

PY_QUEUE = os.environ.get('PARENT_PY_QUEUE', 'parent-py')
TS_QUEUE = os.environ.get('PARENT_TS_QUEUE', 'parent-ts')

app = Celery(
    'parent_peer',
    broker=os.environ.get('CELERY_BROKER_URL', 'redis://127.0.0.1:6379/0'),
    backend=os.environ.get('CELERY_RESULT_BACKEND', 'redis://127.0.0.1:6379/0'),
)
app.conf.update(
    task_routes={'parent.ts_*': {'queue': TS_QUEUE}, 'parent.py_*': {'queue': PY_QUEUE}},
    task_inherit_parent_priority=os.environ.get('PARENT_INHERIT_PRIORITY') == '1',
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)


@app.task(name='parent.py_leaf', bind=True)
def py_leaf(self, x):
    return [self.request.root_id, self.request.parent_id, x]


@app.task(name='parent.py_spawn')
def py_spawn(leaf):
    a = app.send_task(leaf, (1,))
    b = app.signature(leaf, (2,)).delay()
    c = app.send_task(leaf, (3,), add_to_parent=False)
    g = group(app.signature(leaf, (4,)), app.signature(leaf, (5,))).apply_async()
    return [a.id, b.id, c.id, g.id, [r.id for r in g.results]]


@app.task(name='parent.py_spawn_fail')
def py_spawn_fail(leaf):
    raise ValueError(app.send_task(leaf, (1,)).id)


@app.task(name='parent.ts_leaf')
def ts_leaf(x):  # served by the TypeScript worker
    raise NotImplementedError


@app.task(name='parent.ts_spawn')
def ts_spawn(leaf):  # served by the TypeScript worker
    raise NotImplementedError


@app.task(name='parent.ts_spawn_fail')
def ts_spawn_fail(leaf):  # served by the TypeScript worker
    raise NotImplementedError


def children(task_id):
    """What Python reads back: `AsyncResult(id).children` as (class, id, member ids)."""
    res = app.AsyncResult(task_id)
    res.get(timeout=30, propagate=False)
    out = []
    for c in res.children or []:
        members = [r.id for r in getattr(c, 'results', None) or []]
        out.append([type(c).__name__, c.id, members])
    return out


if __name__ == '__main__':
    if sys.argv[1] == 'children':
        print(json.dumps(children(sys.argv[2])))
