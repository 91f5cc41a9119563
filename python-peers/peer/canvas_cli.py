"""Canvas helpers driven by the Node tests: real Celery starts or gathers canvases.

Usage (env as worker.sh: CELERY_BROKER_URL, CELERY_RESULT_BACKEND):
  python -m peer.canvas_cli gather <group_id>
      GroupResult.restore(group_id).get() -> JSON list on stdout
  python -m peer.canvas_cli chain <q1> <q2> <q3>
      chain(add(2, 3) @q1, mul(4) @q2, add(1) @q3).apply_async(); waits; prints
      {"id", "parents": [...ids first to last], "value"}
  python -m peer.canvas_cli chord <body_q> <q>...
      chord([add(i, i) @q for each q], tsum @body_q).apply_async(); prints {"id", "value"}
"""
import json
import sys

from celery import chain, chord, signature
from celery.result import GroupResult

from peer.app import app


def _s(name, *args, queue=None):
    sig = signature(name, args=args, app=app)
    if queue:
        sig.set(queue=queue)
    return sig


def main(argv):
    cmd = argv[0]
    if cmd == 'gather':
        res = GroupResult.restore(argv[1], app=app)
        print(json.dumps(res.get(timeout=30)))
    elif cmd == 'chain':
        q1, q2, q3 = argv[1:4]
        res = chain(_s('conformance.add', 2, 3, queue=q1), _s('conformance.mul', 4, queue=q2),
                    _s('conformance.add', 1, queue=q3)).apply_async()
        value = res.get(timeout=30)
        parents = []
        node = res
        while node is not None:
            parents.insert(0, node.id)
            node = node.parent
        print(json.dumps({'id': res.id, 'parents': parents, 'value': value}))
    elif cmd == 'chord':
        body_q, queues = argv[1], argv[2:]
        header = [_s('conformance.add', i, i, queue=q) for i, q in enumerate(queues, 1)]
        res = chord(header, _s('conformance.tsum', queue=body_q)).apply_async()
        print(json.dumps({'id': res.id, 'value': res.get(timeout=30)}))
    else:
        raise SystemExit(f'unknown command {cmd}')


if __name__ == '__main__':
    main(sys.argv[1:])
