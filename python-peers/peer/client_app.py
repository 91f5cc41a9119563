"""The conformance app with client-test knobs (used by src/client integration tests).

PY_QUEUE_MAX_PRIORITY sets task_queue_max_priority, so that the worker declares its queues with
the same x-max-priority as the Node client (RabbitMQ answers 406 to differing declarations).
"""
import os

from peer.app import app

_mp = os.environ.get('PY_QUEUE_MAX_PRIORITY')
if _mp:
    app.conf.task_queue_max_priority = int(_mp)

__all__ = ['app']
