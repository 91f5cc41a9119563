"""`task_send_sent_event` side by side: capture `task-sent` events, or send a task as a Celery producer.

`python -m peer.sent_events capture <n> <seconds>`: prints READY once bound, then the captured
events as one JSON list. `python -m peer.sent_events produce <queue>`: sends conformance.add
with a countdown and expires, printing the task id. As a worker app (`-A peer.sent_events`) it
sends task-sent for the chain steps it publishes. Broker and protocol from the environment.
"""
import json
import os
import socket
import sys
import time
import uuid

from celery import Celery
from celery.events.event import get_exchange
from kombu import Consumer, Queue

app = Celery(
    'sent_events',
    broker=os.environ.get('CELERY_BROKER_URL', 'redis://127.0.0.1:6379/0'),
    backend=os.environ.get('CELERY_RESULT_BACKEND', 'redis://127.0.0.1:6379/0'),
)
app.conf.update(
    task_send_sent_event=True,
    task_protocol=int(os.environ.get('CELERY_TASK_PROTOCOL', '2')),
)


@app.task(name='conformance.add')
def add(x, y):
    return x + y


def capture(n, seconds):
    """The raw `task-sent` messages on the event exchange (body keys in order, value types,
    headers, properties), not a Receiver's view: it rewrites a client's `clock`."""
    events = []

    def on_message(body, message):
        events.append({
            'body': body,
            'types': [[k, type(v).__name__] for k, v in body.items()],
            'headers': message.headers,
            'delivery_mode': message.properties.get('delivery_mode'),
            'priority': message.properties.get('priority'),
            'content_type': message.content_type,
            'routing_key': message.delivery_info.get('routing_key'),
        })
        message.ack()

    with app.connection_for_read() as conn:
        exchange = get_exchange(conn, name=app.conf.event_exchange)
        queue = Queue(f'cw-sent-{uuid.uuid4()}', exchange=exchange, routing_key='task.sent',
                      auto_delete=True, durable=False)
        with Consumer(conn, queues=[queue], callbacks=[on_message], accept=['json']):
            print('READY', flush=True)
            deadline = time.monotonic() + seconds
            while len(events) < n and time.monotonic() < deadline:
                try:
                    conn.drain_events(timeout=1)
                except socket.timeout:
                    pass
    print(json.dumps(events), flush=True)


def produce(queue):
    r = app.send_task('conformance.add', (2, 3), {'z': 1}, queue=queue, countdown=60,
                      expires=600, ignore_result=True)
    print(json.dumps(r.id), flush=True)


if __name__ == '__main__':
    if sys.argv[1] == 'capture':
        capture(int(sys.argv[2]), float(sys.argv[3]))
    else:
        produce(sys.argv[2])
