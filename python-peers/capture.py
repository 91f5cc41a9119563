"""Publish real Celery tasks to a live Redis and dump the raw LRANGE entries.

  python capture.py                 live: real clock/ids, prints JSON lines {key, entry}
  python capture.py --pinned DIR    reproducible: pinned clock/ids, writes DIR/<case>.json
Env: CAPTURE_REDIS_URL (default redis://127.0.0.1:6379/15). Uses a private queue name and deletes
its lists afterwards, so it never touches the real `celery` queue.
"""
import json
import os
import sys

PINNED = len(sys.argv) > 2 and sys.argv[1] == '--pinned'
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures'))
if PINNED:
    import pinning
    pinning.install_clock()

import celery  # noqa: E402
import kombu  # noqa: E402
import redis  # noqa: E402

URL = os.environ.get('CAPTURE_REDIS_URL', 'redis://127.0.0.1:6379/15')
QUEUE = 'capture-q'
CASES = [
    ('v2-json', 2, {'serializer': 'json'}),
    ('v1-json', 1, {'serializer': 'json'}),
    ('v2-msgpack', 2, {'serializer': 'msgpack'}),
    ('v2-json-gzip', 2, {'serializer': 'json', 'compression': 'gzip'}),
    ('v2-json-eta-priority', 2, {'serializer': 'json', 'countdown': 30, 'priority': 5, 'expires': 60}),
]


def main():
    r = redis.Redis.from_url(URL)
    keys = [QUEUE] + [f'{QUEUE}\x06\x16{p}' for p in (3, 6, 9)]
    if PINNED:
        pinning.install_after_import()
        os.makedirs(sys.argv[2], exist_ok=True)
        from tagged import write_fixture
    for case, proto, opts in CASES:
        r.delete(*keys)
        if PINNED:
            pinning.reset_uuids()
        app = celery.Celery('capture', broker=URL, set_as_current=False)
        app.conf.update(task_protocol=proto, accept_content=['json', 'msgpack', 'yaml'],
                        broker_connection_retry_on_startup=False)
        if PINNED:
            pinning.pin_app(app)
        tid = '0c0c0c0c-0000-4000-8000-0000000000%02d' % (CASES.index((case, proto, opts)) + 1)
        app.send_task('conformance.add', args=(2, 3), queue=QUEUE, task_id=tid, **opts)
        entries = [(k, e) for k in keys for e in r.lrange(k, 0, -1)]
        r.delete(*keys)
        app.close()
        for key, entry in entries:
            if PINNED:
                write_fixture(os.path.join(sys.argv[2], case + '.json'), {
                    'meta': {'kind': 'captured', 'case': case, 'celery': celery.__version__,
                             'kombu': kombu.__version__, 'compare': 'bytes',
                             'generator': 'python-peers/capture.py --pinned',
                             'notes': 'raw LRANGE entry read back from a live Redis'},
                    'input': {'protocol': proto, 'options': opts, 'task': 'conformance.add',
                              'task_id': tid, 'args': [2, 3], 'queue': QUEUE},
                    'expected': {'key': key, 'entry': entry.decode('utf-8')}})
            else:
                print(json.dumps({'case': case, 'key': key,
                                  'entry': entry.decode('utf-8')}))


if __name__ == '__main__':
    main()
