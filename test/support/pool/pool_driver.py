"""Python Celery 5.7 side of test/integration/thread-pool*.test.ts.

usage: pool_driver.py SCENARIO BROKER BACKEND QUEUE NODE; prints one JSON line.
Scenarios: results (values, failures, retries, time limits, lost threads, with the task-failed
events seen on the event exchange), ping (inspect ping while an 8 s synchronous task runs),
revoke (revoke terminate=True of a spinning task, then the pool still runs tasks), lost (a
thread that dies under acks_late with and without reject_on_worker_lost).
"""
import json
import sys
import threading
import time

from celery import Celery

scenario, broker, backend, queue, node = sys.argv[1:6]
app = Celery(broker=broker, backend=backend)
app.conf.broker_connection_retry_on_startup = True


def call(name, *args, **opts):
    return app.send_task(name, args=args, queue=queue, **opts)


def outcome(r, timeout=30):
    try:
        return {'ok': repr(r.get(timeout=timeout))}
    except Exception as e:  # the stored exception, rebuilt by Celery
        return {'err': repr(e), 'type': type(e).__name__}


def capture_events(events):
    def run():
        with app.connection_for_read() as conn:
            recv = app.events.Receiver(conn, handlers={'*': events.append})
            recv.capture(limit=None, timeout=None, wakeup=False)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    time.sleep(1.5)


out = {}
if scenario == 'results':
    events = []
    capture_events(events)
    import datetime
    import decimal
    out['add'] = outcome(call('pool.add', 2, 3))
    out['types'] = outcome(call('pool.types'))
    out['echo'] = outcome(call('pool.echo', {
        'f': 1.0, 'b': b'\x00\xff', 'i': 2 ** 80, 'neg': -(2 ** 64),
        'dt': datetime.datetime(2020, 1, 2, 3, 4, 5, 6),
        'aware': datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
        'date': datetime.date(2021, 5, 6), 'dec': decimal.Decimal('1.10'),
        'nested': [[1.0, b'x'], {'k': 2.0}],
    }))
    out['main'] = outcome(call('pool.main'))
    out['spin'] = outcome(call('pool.spin', 100))
    ids = {}
    for key, name, args, opts in [
        ('hard', 'pool.forever', (), {'time_limit': 1}),
        ('soft', 'pool.soft', (), {'soft_time_limit': 1}),
        ('exit', 'pool.exit', (3,), {}),
        ('uncaught', 'pool.throwAsync', (), {}),
        ('fail', 'pool.fail', ('bad',), {}),
    ]:
        r = call(name, *args, **opts)
        ids[r.id] = key
        out[key] = outcome(r)
    out['retry'] = outcome(call('pool.retry'))
    out['after'] = outcome(call('pool.add', 1, 1))
    time.sleep(1)
    out['failed_events'] = {
        ids[e['uuid']]: e.get('exception') for e in list(events)
        if e.get('type') == 'task-failed' and e.get('uuid') in ids
    }
elif scenario == 'ping':
    r = call('pool.spin', 8000)
    for _ in range(100):
        if app.AsyncResult(r.id).state == 'STARTED' or app.control.inspect(
                destination=[node], timeout=1).active():
            break
        time.sleep(0.1)
    t0 = time.monotonic()
    pong = app.control.inspect(destination=[node], timeout=3).ping()
    out['ping_latency_ms'] = round((time.monotonic() - t0) * 1000)
    out['ping'] = pong
    out['running_after_ping'] = not r.ready()
    out['spin'] = outcome(r)
elif scenario == 'bench':
    # Not a test: the numbers of docs/pool.md. CPU-bound rate, and the hard-limit kill latency.
    n, work = 40, int(sys.argv[6]) if len(sys.argv) > 6 else 20_000_000
    call('pool.work', 1000).get(timeout=60)
    t0 = time.monotonic()
    rs = [call('pool.work', work) for _ in range(n)]
    for r in rs:
        r.get(timeout=600)
    out['cpu_tasks_per_s'] = round(n / (time.monotonic() - t0), 2)
    if len(sys.argv) > 7:
        lat = []
        for _ in range(3):
            t0 = time.monotonic()
            r = call('pool.forever', time_limit=1)
            outcome(r)
            lat.append(round((time.monotonic() - t0) * 1000))
        out['hard_limit_1s_done_ms'] = lat
elif scenario == 'lost':
    # celery/worker/request.py, Request.on_failure for WorkerLostError under acks_late.
    import os
    import tempfile
    events = []
    capture_events(events)
    marks = tempfile.mkdtemp(prefix='pool-lost-')
    cases = {'requeue': 'pool.exitOnce', 'late': 'pool.exitOnceLate',
             'retry': 'pool.exitOnceRetry', 'noack': 'pool.exitOnceNoAck'}
    sent = {key: call(name, os.path.join(marks, key)) for key, name in cases.items()}
    for key, r in sent.items():
        out[key] = outcome(r, timeout=60)
    # The worker takes a later task only after the lost ones were settled (-c 2, FIFO queue).
    out['after'] = outcome(call('pool.add', 1, 2))
    time.sleep(1)
    out['runs'] = {key: len(open(os.path.join(marks, key)).read()) for key in cases}
    out['states'] = {key: app.AsyncResult(r.id).state for key, r in sent.items()}
    out['events'] = {
        key: sorted({e['type'] for e in list(events) if e.get('uuid') == r.id})
        for key, r in sent.items()
    }
    out['rejected'] = {
        key: [e.get('requeue') for e in list(events)
              if e.get('uuid') == r.id and e.get('type') == 'task-rejected']
        for key, r in sent.items()
    }
elif scenario == 'adds':
    out['sums'] = [call('pool.add', i, i).get(timeout=30) for i in range(4)]
elif scenario == 'lifetime':
    # Each thread runs 2 tasks (--max-tasks-per-child 2): 6 tasks see at least 3 thread ids.
    out['threads'] = sorted({call('pool.spin', 10).get(timeout=30) for _ in range(6)})
elif scenario == 'revoke':
    r = call('pool.forever')
    for _ in range(100):
        act = app.control.inspect(destination=[node], timeout=1).active() or {}
        if any(t['id'] == r.id for ts in act.values() for t in ts):
            break
        time.sleep(0.1)
    t0 = time.monotonic()
    out['revoke_reply'] = app.control.revoke(r.id, terminate=True, reply=True, destination=[node], timeout=3)
    out['revoked'] = outcome(r, timeout=15)
    out['kill_latency_ms'] = round((time.monotonic() - t0) * 1000)
    out['revoked_state'] = app.AsyncResult(r.id).state
    out['after'] = outcome(call('pool.add', 20, 22))
print(json.dumps(out))
