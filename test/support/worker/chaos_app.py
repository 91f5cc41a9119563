"""The chaos ledger app for real Python Celery (5.7 and 5.2): the same `chaos.record` task as
`chaos-app.ts`, recording every start and finish in a Redis ledger, acks_late.

Env: CELERY_BROKER_URL, CHAOS_LEDGER_URL (redis db of the ledger), CHAOS_VT_SECONDS (Redis
visibility_timeout, optional)."""
import json
import os
import sys
import time

import redis
from celery import Celery

app = Celery('chaos', broker=os.environ['CELERY_BROKER_URL'])
app.conf.update(
    task_acks_late=True,
    task_ignore_result=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)
if os.environ.get('CHAOS_VT_SECONDS'):
    # kombu >= 5.6 scans for visible messages every interval x throttle seconds (10 x 10 by
    # default): 1 x 1 so a killed peer's messages come back within ~VT + 1 s.
    app.conf.broker_transport_options = {
        'visibility_timeout': float(os.environ['CHAOS_VT_SECONDS']),
        'unacked_restore_interval': 1,
        'unacked_restore_throttle': 1,
    }

_ledger = redis.Redis.from_url(os.environ.get('CHAOS_LEDGER_URL', 'redis://127.0.0.1:6379/2'))


@app.task(name='chaos.record', bind=True, acks_late=True)
def record(self, run, id, ms):
    _ledger.hincrby(f'chaos:{run}:started', id, 1)
    _ledger.rpush(f'chaos:{run}:log', f'start {id} {self.request.hostname}')
    time.sleep(ms / 1000.0)
    _ledger.hincrby(f'chaos:{run}:done', id, 1)
    _ledger.rpush(f'chaos:{run}:log', f'done {id} {self.request.hostname}')
    return id


def produce():
    """stdin: {"queue", "run", "ids", "ms", "countdown": {id: seconds}}; sends with send_task."""
    spec = json.load(sys.stdin)
    countdown = spec.get('countdown', {})
    for tid in spec['ids']:
        opts = {'countdown': countdown[tid]} if tid in countdown else {}
        app.send_task(
            'chaos.record', args=[spec['run'], tid, spec['ms']], queue=spec['queue'],
            task_id=tid, **opts,
        )
    print(json.dumps({'sent': len(spec['ids'])}))


if __name__ == '__main__':
    produce()
