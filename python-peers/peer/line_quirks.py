"""Per-line quirk scenarios with real Celery as the producer (test/integration/line-quirks.test.ts).

Runs on every pinned line (4.4.7 … 5.7.0; Python 3.9 for 4.4, so no 3.10+ syntax here).
Input (stdin, JSON): {"timeout": 30, "cases": [case]}, each case one of
  {"id", "kind": "task", "task", "args", "queue", "then": {"task", "args"}}
      send `task` and then `then` to the same queue; wait for `then`, and report whether the
      first task's result was stored (`stored`), as read from the result backend;
  {"id", "kind": "chord", "header": [sig], "body": sig}      chord(header)(body);
  {"id", "kind": "chain", "steps": [sig | {"group": [sig]}]}  chain(...).apply_async().
A sig is {"task", "args", "queue"}. Output (stdout, last line, JSON):
  {id: {"state", "value" | "error", "stored"?}}.
Broker/backend come from peer.app's environment.
"""
import json
import sys
import time

from celery import chain, chord, group

from peer.app import app


def sig(d):
    return app.signature(d['task'], tuple(d.get('args') or ()), queue=d['queue'])


def step(d):
    if 'group' in d:
        return group([sig(x) for x in d['group']])
    return sig(d)


def stored(task_id, timeout):
    backend = app.backend
    key = backend.get_key_for_task(task_id)
    deadline = time.monotonic() + timeout
    raw = backend.get(key)
    while raw is None and time.monotonic() < deadline:
        time.sleep(0.2)
        raw = backend.get(key)
    return raw is not None


def main():
    spec = json.load(sys.stdin)
    timeout = float(spec.get('timeout', 30))
    out = {}
    for case in spec['cases']:
        rec = {}
        try:
            kind = case['kind']
            if kind == 'task':
                first = app.send_task(case['task'], tuple(case.get('args') or ()),
                                      queue=case['queue'])
                then = app.send_task(case['then']['task'], tuple(case['then'].get('args') or ()),
                                     queue=case['queue'])
                rec['value'] = then.get(timeout=timeout)
                # `then` is done; a result of `first` would have been written before it (the
                # workers under test run one task at a time). Grace period for the store.
                rec['stored'] = stored(first.id, 1.0)
                r = then
            elif kind == 'chord':
                r = chord([sig(h) for h in case['header']])(sig(case['body']))
                rec['value'] = r.get(timeout=timeout)
            else:
                r = chain(*[step(s) for s in case['steps']]).apply_async()
                rec['value'] = r.get(timeout=timeout)
            rec['state'] = r.state
        except Exception as e:  # noqa: BLE001 - report what Python saw
            rec.update(state='ERROR', error='%s: %s' % (type(e).__name__, e))
        out[case['id']] = rec
    print(json.dumps(out))
    app.close()


if __name__ == '__main__':
    main()
