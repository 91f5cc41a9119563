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

_ledger = None


@app.task(name='gaps.record', ignore_result=True)
def record(run, id, ms):
    """The ledger task of sentinel-failover.test.ts (its TS worker defines the same): counts
    starts and completions on the shared Redis, outside the topology under test."""
    import time

    import redis
    global _ledger
    if _ledger is None:
        _ledger = redis.Redis.from_url(os.environ.get('CW_LEDGER', 'redis://127.0.0.1:6379/12'))
    _ledger.hincrby(f'gaps:{run}:started', id, 1)
    _ledger.rpush(f'gaps:{run}:times', f'{id} {int(time.time() * 1000)}')
    time.sleep(ms / 1000.0)
    _ledger.hincrby(f'gaps:{run}:done', id, 1)
    return id


def fire(req):
    """Send `gaps.record(run, id, ms)` for every id without waiting; a publish that fails even
    after kombu's own retries (a failover in progress) is sent again with the same id."""
    import time
    retries = 0
    for tid in req['fire']:
        for attempt in range(60):
            try:
                app.send_task('gaps.record', args=[req['run'], tid, req.get('ms', 0)],
                              task_id=tid, queue=req['queue'], ignore_result=True)
                break
            except Exception as exc:  # noqa: BLE001 - counted and retried
                retries += 1
                print(f'publish {tid} failed ({exc!r}), retry {attempt + 1}', file=sys.stderr)
                time.sleep(0.25)
        if req.get('gap_ms'):
            time.sleep(req['gap_ms'] / 1000.0)
    app.close()
    print(json.dumps({'sent': len(req['fire']), 'retries': retries}))


if __name__ == '__main__':
    req = json.load(sys.stdin)
    if 'fire' in req:
        fire(req)
        sys.exit(0)
    out = {}
    for c in req['cases']:
        r = app.send_task(c['task'], args=c.get('args', []), queue=req['queue'],
                          priority=c.get('priority'))
        out[c['id']] = r.get(timeout=req.get('timeout', 20))
    app.close()
    print(json.dumps(out))
