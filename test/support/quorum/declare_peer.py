"""Issue 9 (RabbitMQ 4 readiness): what a Celery client declares for the operations celery-wire's
client also does, on a vhost of its own, so a test can list the queues while they exist.

Env: CELERY_BROKER_URL. Operations, each as a user writes it:
``app.control.revoke`` (no reply), ``app.control.inspect().ping()`` (reply queue), an event
receiver consuming (``app.events.Receiver``), and a ``send_task`` whose result is waited for on
the ``rpc://`` backend. Prints ``{"ready": true}`` and keeps every connection open
until stdin closes (exclusive and auto-delete queues vanish with their consumers).
"""
import json
import os
import sys
import threading
from functools import partial

from celery import Celery
from kombu import Consumer

app = Celery('declare_peer', broker=os.environ['CELERY_BROKER_URL'], backend='rpc://')
app.conf.update(broker_connection_retry_on_startup=True)


@app.task(name='declare_peer.nothing')
def nothing():
    return None


def main():
    app.control.revoke('00000000-0000-0000-0000-000000000000')
    # A ping nobody answers keeps collecting (consuming its reply queue) until the process ends.
    threading.Thread(target=lambda: app.control.inspect(timeout=600).ping(), daemon=True).start()
    conn = app.connection_for_read()
    conn.ensure_connection()
    receiver = app.events.Receiver(conn, handlers={'*': lambda event: None})
    channel = conn.channel()
    consumers = receiver.get_consumers(partial(Consumer, channel), channel)
    for c in consumers:
        c.consume()
    # To a queue no worker consumes: a Celery 5.7 worker that stores an rpc result also declares
    # a reply queue of its own (durable, no consumer), which is the worker's and not compared here.
    result = app.send_task('declare_peer.nothing', queue='declare-nobody')
    try:
        result.get(timeout=0.5)
    except Exception:  # noqa: BLE001 - nobody runs it; waiting consumed the rpc reply queue
        pass
    print(json.dumps({'ready': True}), flush=True)
    sys.stdin.read()
    os._exit(0)


if __name__ == '__main__':
    main()
