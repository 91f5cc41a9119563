"""Python Celery 5.7 side of the cluster failover test (test/cluster/chaos-amqp-cluster.test.ts).

Both task queues are quorum queues, declared here exactly as the TypeScript side declares them
(`x-queue-type: quorum`, durable, direct exchange of the queue's name). The app is pointed at the
3-node cluster with a failover URL list (CELERY_BROKER_URL = 'amqp://…:5681//;amqp://…:5682//;…').

  python -m celery -A cluster_app worker -Q <CLUSTER_PY_QUEUE> …   runs `cluster.py_record`
  python cluster_app.py < {"queue", "run", "ids", "ms", "pace_ms"}  sends `cluster.ts_record`

Env: CELERY_BROKER_URL, CLUSTER_LEDGER_URL (Redis db of the ledger), CLUSTER_TS_QUEUE,
CLUSTER_PY_QUEUE."""
import json
import os
import sys
import time

import redis
from celery import Celery
from kombu import Exchange, Queue

QUORUM = {'x-queue-type': 'quorum'}
TS_QUEUE = os.environ['CLUSTER_TS_QUEUE']
PY_QUEUE = os.environ['CLUSTER_PY_QUEUE']

app = Celery('cluster', broker=os.environ['CELERY_BROKER_URL'])
app.conf.update(
    task_queues=[
        Queue(q, Exchange(q), routing_key=q, queue_arguments=QUORUM) for q in (TS_QUEUE, PY_QUEUE)
    ],
    task_acks_late=True,
    task_ignore_result=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    broker_failover_strategy='round-robin',
    # Publisher confirms: a publish is only done once the broker has it (without them a message
    # written to a node's socket just before it stops is lost silently, by the producer).
    broker_transport_options={'confirm_publish': True},
    worker_hijack_root_logger=False,
    worker_cancel_long_running_tasks_on_connection_loss=False,
)

_ledger = redis.Redis.from_url(os.environ['CLUSTER_LEDGER_URL'])


@app.task(name='cluster.py_record', bind=True, acks_late=True)
def py_record(self, run, id, ms):
    _ledger.hincrby(f'cluster:{run}:started', id, 1)
    # Which copy ran: a broker redelivery (redelivered, x-delivery-count) or a second message.
    di = self.request.delivery_info or {}
    count = (self.request.headers or {}).get('x-delivery-count')
    _ledger.rpush(f'cluster:{run}:trace', f'{id} redelivered={di.get("redelivered")} '
                  f'x-delivery-count={count} at={time.time():.3f}')
    time.sleep(ms / 1000.0)
    _ledger.hincrby(f'cluster:{run}:done', id, 1)
    return id


def _retrying(tid):
    def errback(exc, interval):
        print(f'retry {tid} {type(exc).__name__}: {exc}', flush=True)
    return errback


def produce():
    """Send `cluster.ts_record` tasks at a steady pace; print one line per 10 sent (progress)."""
    spec = json.load(sys.stdin)
    pace = spec.get('pace_ms', 20) / 1000.0
    for i, tid in enumerate(spec['ids']):
        # kombu's own publish retry (3 retries, `task_publish_retry_policy`) can run out while the
        # cluster elects new leaders; a careful producer sends again (same id) and we count it:
        # a resend after an unconfirmed publish may run twice, which the test allows for it.
        for attempt in range(10):
            try:
                app.send_task(
                    'cluster.ts_record', args=[spec['run'], tid, spec['ms']],
                    queue=spec['queue'], task_id=tid,
                    # kombu's own retry inside the publish (`Connection.ensure`) publishes the
                    # same message again after a connection error; its errback names it, so the
                    # test can tell a producer's second copy from a broker redelivery.
                    retry_policy={'errback': _retrying(tid)},
                )
                break
            except Exception as exc:  # noqa: BLE001 - kombu raises OperationalError and others
                print(f'resend {tid} {type(exc).__name__}: {exc}', flush=True)
                time.sleep(1)
        else:
            print(f'gave up {tid}', flush=True)
        if (i + 1) % 10 == 0:
            print(f'sent {i + 1}', flush=True)
        time.sleep(pace)
    print(f'done {len(spec["ids"])}', flush=True)


if __name__ == '__main__':
    produce()
