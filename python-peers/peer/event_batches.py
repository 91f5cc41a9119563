"""Task events of worker nodes as Celery's own receiver decodes them (worker event tests).

stdin JSON: {"nodes": {"<label>": ["<name@host>", "<queue>"], ...}, "n": <tasks per node>}.
For every node: ``n`` ``conformance.add`` tasks and one ``conformance.retry(1, countdown=1)`` are sent to its
queue while ``app.events.Receiver`` (celery/events/receiver.py, what ``celery events`` and
Flower use) captures, with a ``celery.events.state.State`` fed by the same handler. Prints one
JSON object per label: the routing key and body kind of every event message from that node,
the list sizes of ``.multi`` bodies, the count and sorted field names of each event type, the
``task-retried`` event's ``exception`` and the last line of its ``traceback``, and the tasks
State holds per state.
"""
import json
import sys
import threading
import time
from collections import Counter

from celery.events.state import State

from peer.app import app


def main():
    spec = json.load(sys.stdin)
    nodes, n = spec['nodes'], spec['n']
    by_host = {node: label for label, (node, _q) in nodes.items()}
    messages = {label: [] for label in nodes}
    events = {label: [] for label in nodes}
    state = State()
    receivers = []

    def on_event(event):
        label = by_host.get(event.get('hostname'))
        if label is not None:
            # State.event adds `state` to the dict it is given: keep what arrived.
            events[label].append(dict(event))
            state.event(event)

    def capture():
        with app.connection() as conn:
            recv = app.events.Receiver(conn, handlers={'*': on_event})
            decode = recv._receive

            def receive(body, message):
                # Record what arrived on the wire, then let Celery's receiver split and dispatch.
                label = by_host.get((message.headers or {}).get('hostname'))
                if label is not None:
                    kind = len(body) if isinstance(body, list) else None
                    messages[label].append([message.delivery_info.get('routing_key'), kind])
                decode(body, message)

            recv._receive = receive
            receivers.append(recv)
            recv.capture(limit=None, timeout=None, wakeup=False)

    t = threading.Thread(target=capture, daemon=True)
    t.start()

    time.sleep(1.5)
    results = []
    for label, (_node, queue) in nodes.items():
        for i in range(n):
            results.append(app.send_task('conformance.add', (i, i), queue=queue))
        # countdown 1: the retried run starts after task-retried was sent (without one, a worker
        # running tasks concurrently may finish the retry before its task-retried goes out).
        results.append(app.send_task('conformance.retry', (1, 1), queue=queue))
    for r in results:
        r.get(timeout=60)
    deadline = time.monotonic() + 15
    want = n + 1
    while time.monotonic() < deadline:
        done = [sum(1 for e in events[lb] if e['type'] == 'task-succeeded') for lb in nodes]
        if all(d >= want for d in done):
            break
        time.sleep(0.2)
    time.sleep(0.5)
    for recv in receivers:
        recv.should_stop = True
    t.join(10)
    out = {}
    for label, (node, _q) in nodes.items():
        evs = events[label]
        task_msgs = [m for m in messages[label] if m[0].startswith('task.')]
        retried = [e for e in evs if e['type'] == 'task-retried']
        out[label] = {
            'routing': sorted(Counter((m[0], m[1] is not None) for m in task_msgs).items()),
            'batch_sizes': sorted(m[1] for m in task_msgs if m[1] is not None),
            'task_messages': len(task_msgs),
            'counts': dict(Counter(e['type'] for e in evs if e['type'].startswith('task-'))),
            'fields': {e['type']: sorted(e) for e in evs if e['type'].startswith('task-')},
            'retried_exception': retried[0]['exception'] if retried else None,
            'retried_tb_last': retried[0]['traceback'].strip().splitlines()[-1] if retried else None,
            'state': dict(Counter(task.state for task in state.tasks.values()
                                  if task.worker is not None and task.worker.hostname == node)),
        }
    print(json.dumps(out))


if __name__ == '__main__':
    main()
