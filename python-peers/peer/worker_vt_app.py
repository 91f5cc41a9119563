"""peer.app with a short Redis visibility_timeout, for a Python worker that restores the unacked
messages of a killed celery-wire worker (kombu `QoS.restore_visible` under `unacked_mutex`).
Env: WORKER_VT_SECONDS (default 2)."""
import os

from peer.app import app

app.conf.broker_transport_options = {
    'visibility_timeout': float(os.environ.get('WORKER_VT_SECONDS', '2')),
}
