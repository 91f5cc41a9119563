"""Conformance driver: real Python Celery as the PRODUCER and result reader.

Reads one JSON document on stdin:
  {"protocol": 1|2, "cases": [{"name", "task", "args", "kwargs", "options", "timeout",
                                "canvas"?: {"kind": chain|group|chord, "steps": [{"task", "args"}],
                                            "body"?: {"task", "args"}}}]}
(values in the tagged ``__type__`` form of protocol-fixtures/README.md), sends every case with
``app.send_task`` (so Celery builds the message exactly as a Python producer would) or, for a
canvas case, Celery's own ``chain``/``group``/``chord`` with the case's options on every
signature (a ``"control": "ping"`` case: ``app.control.ping(destination=...)``), then reads
each result with Python's own ``AsyncResult.get(propagate=False)`` and prints one JSON line per
case:
  {"name", "id", "state", "result" (tagged), "exception": {"module", "type", "args"} | null,
   "traceback": bool, "elapsed": seconds from send to ready}
Broker/backend come from CELERY_BROKER_URL / CELERY_RESULT_BACKEND like the peer worker.
"""
import base64
import datetime as dt
import decimal
import json
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                'fixtures'))
from tagged import tag  # noqa: E402

from celery import chain, chord, group  # noqa: E402

from peer.app import app  # noqa: E402

_UNTAG = {
    'datetime': dt.datetime.fromisoformat,
    'date': dt.date.fromisoformat,
    'time': dt.time.fromisoformat,
    'decimal': decimal.Decimal,
    'uuid': lambda v: uuid.UUID(hex=v['hex']),
    'bytes': lambda v: v.encode('utf-8'),
    'base64': base64.b64decode,
}


def untag(v):
    if isinstance(v, list):
        return [untag(x) for x in v]
    if isinstance(v, dict):
        if set(v) == {'__type__', '__value__'} and v['__type__'] in _UNTAG:
            return _UNTAG[v['__type__']](v['__value__'])
        return {k: untag(x) for k, x in v.items()}
    return v


def build_canvas(spec, opts):
    def sig(step):
        return app.signature(step['task'], args=untag(step.get('args') or []), **opts)
    steps = [sig(s) for s in spec['steps']]
    if spec['kind'] == 'chain':
        return chain(*steps)
    if spec['kind'] == 'group':
        return group(*steps)
    return chord(steps, sig(spec['body']))


def error(exc):
    return {'module': type(exc).__module__, 'type': type(exc).__qualname__,
            'args': tag([str(a) for a in exc.args]), 'str': str(exc)}


def main():
    spec = json.load(sys.stdin)
    app.conf.task_protocol = int(spec.get('protocol', 2))
    sent = []
    controls = []
    for case in spec['cases']:
        opts = untag(case.get('options') or {})
        started = time.monotonic()
        if case.get('control') == 'ping':
            # Remote control: Celery's own Control.ping to the worker under test.
            try:
                replies = app.control.ping(destination=case['destination'], timeout=10)
                out = {'name': case['name'], 'id': None, 'state': 'SUCCESS',
                       'result': tag(replies), 'exception': None, 'traceback': False}
            except Exception as exc:  # noqa: BLE001 - an observation, not a crash
                out = {'name': case['name'], 'id': None, 'state': 'ERROR', 'result': None,
                       'exception': error(exc), 'traceback': False}
            controls.append((out, started))
            continue
        try:
            if case.get('canvas'):
                r = build_canvas(case['canvas'], opts).apply_async()
            else:
                r = app.send_task(case['task'], args=untag(case.get('args') or []),
                                  kwargs=untag(case.get('kwargs') or {}), **opts)
        except Exception as exc:  # a refused canvas (rpc chord) is an observation too
            r = exc
        sent.append((case, r, started))
    for out, started in controls:
        out['elapsed'] = time.monotonic() - started
        print(json.dumps(out), flush=True)
    for case, r, started in sent:
        if isinstance(r, Exception):
            print(json.dumps({'name': case['name'], 'id': None, 'state': 'ERROR', 'result': None,
                              'traceback': False, 'exception': error(r),
                              'elapsed': time.monotonic() - started}), flush=True)
            continue
        out = {'name': case['name'], 'id': r.id}
        try:
            value = r.get(timeout=float(case.get('timeout', 30)), propagate=False)
            # A GroupResult has no single state: SUCCESS when every member succeeded.
            out['state'] = r.state if hasattr(r, 'state') else (
                'SUCCESS' if r.successful() else 'FAILURE')
            if isinstance(value, BaseException):
                out['result'] = None
                out['exception'] = {'module': type(value).__module__,
                                    'type': type(value).__qualname__,
                                    'args': tag(list(value.args)),
                                    'str': str(value)}
            else:
                out['result'] = tag(value)
                out['exception'] = None
            out['traceback'] = bool(getattr(r, 'traceback', None))
        except Exception as exc:  # TimeoutError etc.: report, never crash the run
            out.update(state='ERROR', result=None, traceback=False, exception=error(exc))
        out['elapsed'] = time.monotonic() - started
        print(json.dumps(out), flush=True)
    app.close()


if __name__ == '__main__':
    main()
