"""Conformance peer: a real Celery app configured from Celery's own environment variables."""
import os

from celery import Celery

app = Celery(
    'conformance',
    broker=os.environ.get('CELERY_BROKER_URL', 'redis://127.0.0.1:6379/0'),
    backend=os.environ.get('CELERY_RESULT_BACKEND', 'redis://127.0.0.1:6379/0'),
    include=['peer.tasks'],
)
app.conf.update(
    task_serializer=os.environ.get('CELERY_TASK_SERIALIZER', 'json'),
    result_serializer=os.environ.get('CELERY_RESULT_SERIALIZER', 'json'),
    task_protocol=int(os.environ.get('CELERY_TASK_PROTOCOL', '2')),
    accept_content=['json', 'msgpack', 'yaml'],
    result_accept_content=['json', 'msgpack', 'yaml'],
    result_extended=os.environ.get('CELERY_RESULT_EXTENDED', '') in ('1', 'true', 'yes'),
    task_default_queue='celery',
    worker_send_task_events=os.environ.get('CELERY_SEND_EVENTS', '1') in ('1', 'true', 'yes'),
    task_send_sent_event=False,
    broker_connection_retry_on_startup=True,
)
# broker_transport_options as JSON (SQS tests: region, queue_name_prefix, visibility_timeout, …).
if os.environ.get('CELERY_BROKER_TRANSPORT_OPTIONS'):
    import json
    app.conf.broker_transport_options = json.loads(os.environ['CELERY_BROKER_TRANSPORT_OPTIONS'])
# result_backend_transport_options as JSON (Sentinel estates: master_name of the backend).
if os.environ.get('CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS'):
    import json
    app.conf.result_backend_transport_options = json.loads(
        os.environ['CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS'])

# Quorum-queue estate (issue 9, conformance transport amqp-quorum): the default queue and every
# queue created on demand (-Q, send_task(queue=...)) are quorum queues. Celery 5.6+ has
# task_create_missing_queue_type for the latter; 5.5 gets the same Queues.new_missing here.
if os.environ.get('CELERY_QUORUM_QUEUES', '') in ('1', 'true', 'yes'):
    from kombu import Exchange, Queue

    app.conf.task_default_queue_type = 'quorum'

    class _QuorumQueues(app.amqp.queues_cls):
        def new_missing(self, name):
            return Queue(name, Exchange(name), name, queue_arguments={'x-queue-type': 'quorum'})

    app.amqp.queues_cls = _QuorumQueues
