"""Send catalogue cases to a queue and report what Python's own AsyncResult sees (worker tests).

Input (stdin, JSON): {"queue": "ts", "timeout": 10, "cases": [{"id", "task", "args", "kwargs",
"options"}]}. Output (stdout, last line, JSON): {id: {"state", "repr", "type", "exc_type",
"exc_module", "exc_str"}}. Broker/backend/serializer/protocol come from peer.app's environment.
"""
import json
import sys

from celery import chain, chord
from celery.result import AsyncResult

from peer.app import app


def main():
    spec = json.load(sys.stdin)
    queue = spec.get('queue', 'ts')
    timeout = spec.get('timeout', 10)
    sent = []
    for case in spec['cases']:
        opts = dict(case.get('options') or {})
        if case.get('chord'):
            header = [app.signature(c['task'], tuple(c.get('args') or ()), queue=queue)
                      for c in case['chord']]
            body = app.signature(case['body']['task'], tuple(case['body'].get('args') or ()),
                                 queue=queue)
            sent.append((case, chord(header)(body)))
            continue
        if case.get('chain'):
            sigs = [app.signature(c['task'], tuple(c.get('args') or ()), queue=queue)
                    for c in case['chain']]
            sent.append((case, chain(*sigs).apply_async()))
            continue
        if case.get('link'):
            opts['link'] = app.signature(case['link']['task'], tuple(case['link'].get('args') or ()),
                                         queue=queue)
        if case.get('get_only'):
            sent.append((case, AsyncResult(case['id'], app=app)))
            continue
        r = app.send_task(case['task'], tuple(case.get('args') or ()), case.get('kwargs') or {},
                          queue=queue, task_id=case['id'], **opts)
        sent.append((case, r))
    out = {}
    for case, r in sent:
        rec = {}
        if case.get('no_wait'):
            out[case['id']] = {'state': AsyncResult(case['id'], app=app).state}
            continue
        try:
            v = r.get(timeout=timeout)
            rec.update(state=r.state, repr=repr(v), type=type(v).__name__)
            if case.get('link'):
                # The callback's result, found through the parent's stored `children`.
                kids = r.children or []
                rec['children'] = [k.get(timeout=timeout) for k in kids]
        except Exception as e:  # noqa: BLE001 - we report whatever Python rebuilt
            rec.update(state=r.state, exc_type=type(e).__name__, exc_module=type(e).__module__,
                       exc_str=str(e))
        out[case['id']] = rec
    print(json.dumps(out))


if __name__ == '__main__':
    main()
