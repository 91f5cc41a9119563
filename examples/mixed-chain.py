"""The mixed chain of examples/mixed-chain.ts, started from Python: add on Python, mul on Node.

    export CELERY_BROKER_URL=redis://127.0.0.1:6379/0 CELERY_RESULT_BACKEND=redis://127.0.0.1:6379/0
    PY_QUEUES=py bash python-peers/worker.sh &
    npx celery-wire worker --app conformance/app/index.ts -Q ts &
    python-peers/.venv-5.7/bin/python examples/mixed-chain.py
"""
import os

from celery import Celery, chain, signature

app = Celery(
    'mixed',
    broker=os.environ.get('CELERY_BROKER_URL', 'redis://127.0.0.1:6379/0'),
    backend=os.environ.get('CELERY_RESULT_BACKEND', 'redis://127.0.0.1:6379/0'),
)


def on(queue, name, *args):
    return signature(f'conformance.{name}', args=args, app=app).set(queue=queue)


res = chain(on('py', 'add', 2, 3), on('ts', 'mul', 4), on('py', 'add', 1)).apply_async()
print('chain result =', res.get(timeout=30))
print('parent =', res.parent.get(timeout=30), '(computed by Node)')
