"""Producer of the celery-exporter comparison (test/integration/metrics-exporter.test.ts).

Real Celery sends one task mix to one queue, with ``task_send_sent_event`` on (celery-exporter's
README asks for it: its ``queue_name`` label comes from ``task-sent``), then waits for every
result and prints one JSON line ``{"states": {case: state}}``. The mix covers each state
celery-exporter counts:
  ok ×3 (SUCCESS), fail ×2 (FAILURE, KeyError), retry ×1 (RETRY then SUCCESS),
  expired at its ETA ×1 (received, then REVOKED), revoked before it arrived ×1 (``revoke`` with a
  reply first, then sent with that id: REVOKED without task-received).
Argv: queue, worker node name (the revoke's destination). Broker/backend from CELERY_BROKER_URL /
CELERY_RESULT_BACKEND like peer.app.
"""
import json
import sys
import uuid

from peer.app import app


def main():
    queue, node = sys.argv[1], sys.argv[2]
    app.conf.task_send_sent_event = True
    sent = []

    def send(case, task, args, **opts):
        sent.append((case, app.send_task(task, args=args, queue=queue, **opts)))

    for i in range(3):
        send(f'ok{i}', 'conformance.add', [i, 1])
    for i in range(2):
        send(f'fail{i}', 'conformance.fail', ['KeyError', 'nope'])
    send('retry', 'conformance.retry', [1])
    send('expired', 'conformance.add', [1, 1], countdown=2, expires=1)
    revoked_id = str(uuid.uuid4())
    replies = app.control.revoke(revoked_id, destination=[node], reply=True, timeout=10)
    if not replies:
        raise SystemExit(f'no revoke reply from {node}')
    send('revoked', 'conformance.add', [1, 1], task_id=revoked_id)
    states = {}
    for case, r in sent:
        r.get(timeout=60, propagate=False)
        states[case] = r.state
    print(json.dumps({'states': states}), flush=True)
    app.close()


if __name__ == '__main__':
    main()
