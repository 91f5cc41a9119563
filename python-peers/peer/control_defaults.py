"""Print Celery's own `inspect conf` defaults table (with_defaults=True) for a bare app, as JSON.

Used to generate src/protocol/celery-conf-defaults.ts: `celery/worker/control.py`, `conf` =
`jsonify(app.conf.table(with_defaults=True), keyfilter=..., unknown_type_filter=safe_repr)`.
"""
import json
import sys

from celery import Celery
from celery.utils.serialization import jsonify
from kombu.utils.encoding import safe_repr

app = Celery('defaults', broker='memory://', backend='disabled://', set_as_current=False)
table = jsonify(app.conf.table(with_defaults=True),
                keyfilter=lambda k: isinstance(k, str) and not k.startswith('__'),
                unknown_type_filter=safe_repr)
json.dump(table, sys.stdout, sort_keys=False)
print()
