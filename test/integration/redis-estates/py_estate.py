"""A real Celery app configured like a Redis estate: transport options, TLS and Sentinel settings
from the JSON in $CW_ESTATE, broker/backend from Celery's own environment variables. Runs the
conformance catalogue (peer.tasks) as a worker, or, as a script, sends cases read from stdin."""
import json
import os
import sys

from celery import Celery

opts = json.loads(os.environ.get('CW_ESTATE', '{}'))
app = Celery(
    'estate',
    broker=os.environ['CELERY_BROKER_URL'],
    backend=os.environ['CELERY_RESULT_BACKEND'],
    include=['peer.tasks'],
)
app.conf.update(
    accept_content=['json'],
    worker_send_task_events=False,
    broker_connection_retry_on_startup=True,
    **{k: v for k, v in opts.items()},
)

if __name__ == '__main__':
    req = json.load(sys.stdin)
    out = {}
    for c in req['cases']:
        r = app.send_task(c['task'], args=c.get('args', []), queue=req['queue'],
                          priority=c.get('priority'))
        out[c['id']] = r.get(timeout=req.get('timeout', 20))
    app.close()
    print(json.dumps(out))
