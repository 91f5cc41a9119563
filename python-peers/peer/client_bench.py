"""Python side of the client benchmark (bench/client.ts): Celery's own send_task rate and
apply_async round trip, on the same machine in the same run.

usage: client_bench.py publish BROKER QUEUE N    -> {"rate": tasks/s}
       client_bench.py rtt BROKER BACKEND QUEUE N -> {"p50_ms", "p99_ms"}
       client_bench.py purge BROKER QUEUE        -> {"purged": n}
"""
import json
import sys
import time

from celery import Celery


def make_app(broker, backend=None):
    app = Celery('client-bench', broker=broker, backend=backend, set_as_current=False)
    app.conf.broker_connection_retry_on_startup = True
    return app


def publish(broker, queue, n):
    app = make_app(broker)
    with app.producer_or_acquire() as producer:
        app.send_task('conformance.add', (0, 0), queue=queue, producer=producer, ignore_result=True)
        start = time.perf_counter()
        for i in range(n):
            app.send_task('conformance.add', (i, i), queue=queue, producer=producer,
                          ignore_result=True)
        elapsed = time.perf_counter() - start
    return {'rate': n / elapsed}


def rtt(broker, backend, queue, n):
    app = make_app(broker, backend)
    samples = []
    app.send_task('conformance.add', (0, 0), queue=queue).get(timeout=30)
    for i in range(n):
        t0 = time.perf_counter()
        app.send_task('conformance.add', (i, 1), queue=queue).get(timeout=30)
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return {'p50_ms': samples[len(samples) // 2], 'p99_ms': samples[int(len(samples) * 0.99)]}


def purge(broker, queue):
    app = make_app(broker)
    with app.connection_for_write() as conn:
        ch = conn.default_channel
        try:
            n = ch.queue_purge(queue) or 0
            ch.queue_delete(queue)
        except Exception:  # noqa: BLE001 - a missing queue is already purged
            n = 0
    return {'purged': n}


if __name__ == '__main__':
    mode, *rest = sys.argv[1:]
    if mode == 'publish':
        out = publish(rest[0], rest[1], int(rest[2]))
    elif mode == 'rtt':
        out = rtt(rest[0], rest[1], rest[2], int(rest[3]))
    else:
        out = purge(rest[0], rest[1])
    print(json.dumps(out))
