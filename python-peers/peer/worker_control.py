"""Remote control + events against one worker node, from real Celery (worker tests).

stdin JSON: {"node": "<name@host>", "queue": "<q>", "prefix": "<id prefix>"}. Prints one JSON
object: replies of ping/registered/scheduled/active/revoke/terminate/rate_limit/clock, the final
states of the revoked tasks, and the event types (with one sample each) seen from that node.
"""
import json
import sys
import threading
import time

from celery.result import AsyncResult

from peer.app import app


def main():
    spec = json.load(sys.stdin)
    node, queue, p = spec['node'], spec['queue'], spec['prefix']
    events = []

    def capture():
        with app.connection() as conn:
            recv = app.events.Receiver(conn, handlers={'*': events.append})
            try:
                recv.capture(limit=None, timeout=7, wakeup=True)
            except Exception:  # noqa: BLE001 - socket timeout ends the capture
                pass

    t = threading.Thread(target=capture, daemon=True)
    t.start()
    time.sleep(1.0)
    i = app.control.inspect(destination=[node], timeout=2)
    out = {'ping': app.control.ping(destination=[node], timeout=2)}
    app.send_task('conformance.add', (1, 1), queue=queue, countdown=60, task_id=p + '-eta')
    app.send_task('conformance.sleep', (20,), queue=queue, task_id=p + '-sleep')
    app.send_task('conformance.add', (2, 2), queue=queue, task_id=p + '-ok')
    time.sleep(1.0)
    out['registered'] = i.registered()
    out['scheduled'] = i.scheduled()
    out['active'] = i.active()
    out['revoke'] = app.control.revoke(p + '-eta', reply=True, destination=[node], timeout=2)
    out['terminate'] = app.control.revoke(p + '-sleep', terminate=True, reply=True,
                                          destination=[node], timeout=2)
    out['sleep_state'] = AsyncResult(p + '-sleep', app=app).state
    time.sleep(0.5)
    out['sleep_state'] = AsyncResult(p + '-sleep', app=app).state
    out['eta_state'] = AsyncResult(p + '-eta', app=app).state
    out['ok'] = AsyncResult(p + '-ok', app=app).get(timeout=5)
    out['rate_limit'] = app.control.rate_limit('conformance.add', '10/m', reply=True,
                                               destination=[node], timeout=2)
    out['clock'] = i.clock()
    t.join(10)
    seen = {}
    for e in events:
        if e.get('hostname') == node:
            seen.setdefault(e['type'], e)
    out['events'] = seen
    print(json.dumps(out, default=repr))


if __name__ == '__main__':
    main()
