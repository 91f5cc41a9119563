"""A real Celery app with message signing (`app.setup_security()`), for security-*.test.ts.

Settings from the JSON in $CW_SECURITY (security_key, security_certificate, security_cert_store,
security_digest, plus any other Celery setting); broker/backend from Celery's environment
variables. As a worker it serves the conformance catalogue (peer.tasks); as a script it sends the
cases read from stdin, signed, and prints {id: result or error}; cases with "get" instead of
"task" read that stored result (`AsyncResult(get).get()`) without sending anything.
"""
import json
import os
import sys

from celery import Celery

opts = json.loads(os.environ.get('CW_SECURITY', '{}'))
app = Celery(
    'secure',
    broker=os.environ['CELERY_BROKER_URL'],
    backend=os.environ['CELERY_RESULT_BACKEND'],
    include=['peer.tasks'],
)
app.conf.update({
    'task_serializer': 'auth',
    'accept_content': ['auth'],
    'result_serializer': 'json',
    'result_accept_content': ['json'],
    'worker_send_task_events': False,
    'broker_connection_retry_on_startup': True,
    **opts,
})
app.setup_security()

if __name__ == '__main__':
    req = json.load(sys.stdin)
    out = {}
    for c in req['cases']:
        if 'get' in c:
            r = app.AsyncResult(c['get'])
        else:
            r = app.send_task(c['task'], args=c.get('args', []), queue=req['queue'])
        try:
            out[c['id']] = r.get(timeout=req.get('timeout', c.get('timeout', 20)))
        except Exception as exc:  # noqa: BLE001 - reported to the test
            out[c['id']] = {'error': repr(exc)}
    app.close()
    print(json.dumps(out))
