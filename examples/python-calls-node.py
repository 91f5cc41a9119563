"""Python calls Node: a plain Celery client using tasks served by a celery-wire worker.

Start the worker first (see examples/python-calls-node.ts), then:
    python-peers/.venv-5.7/bin/python examples/python-calls-node.py
"""
import os

from celery import Celery

app = Celery(
    'client',
    broker=os.environ.get('CELERY_BROKER_URL', 'redis://127.0.0.1:6379/0'),
    backend=os.environ.get('CELERY_RESULT_BACKEND', 'redis://127.0.0.1:6379/0'),
)
app.conf.task_routes = {'node.*': {'queue': 'node'}}

print(app.send_task('node.greet', ('Ada',)).get(timeout=10))
print(app.send_task('node.greet', kwargs={'name': 'Bob', 'punctuation': '?'}).get(timeout=10))
try:
    app.send_task('node.sqrt', (-1,)).get(timeout=10)
except ValueError as exc:  # rebuilt as the Python builtin
    print('ValueError:', exc)
print(app.send_task('node.download', ('https://example.org',)).get(timeout=20))
print(app.control.inspect(timeout=1).ping())
