"""Celery's `auth` serializer from the command line, for src/security/*.int tests.

Run with python-peers/.venv-5.7-security (bootstrap-security.sh: Celery 5.7 + cryptography).

    auth_peer.py dumps KEY CERT DIGEST   < json      -> content_type, content_encoding, body
    auth_peer.py loads STORE DIGEST      < body      -> json of the value, or the refusal (rc 2)

Both go through kombu's serializer registry after celery.security.serialization.register_auth,
i.e. exactly what a task message body is under task_serializer='auth'.
"""
import json
import sys

from kombu.exceptions import DecodeError
from kombu.serialization import dumps, loads

from celery.exceptions import SecurityError
from celery.security.serialization import register_auth


def main():
    cmd = sys.argv[1]
    if cmd == 'dumps':
        key, cert, digest = sys.argv[2:5]
        with open(key) as k, open(cert) as c:
            register_auth(key=k.read(), cert=c.read(), digest=digest)
        ctype, cenc, body = dumps(json.load(sys.stdin), serializer='auth')
        json.dump({'content_type': ctype, 'content_encoding': cenc,
                   'body': body if isinstance(body, str) else body.decode()}, sys.stdout)
    elif cmd == 'loads':
        store, digest = sys.argv[2:4]
        register_auth(store=store, digest=digest)
        try:
            value = loads(sys.stdin.buffer.read(), 'application/data', 'utf-8',
                          accept=['application/data'])
        except (SecurityError, DecodeError) as exc:
            # kombu's loads re-raises the serializer's SecurityError as DecodeError (same text).
            print(f'{type(exc).__name__}: {exc}')
            sys.exit(2)
        json.dump(value, sys.stdout)
    else:
        sys.exit(f'unknown command {cmd}')


if __name__ == '__main__':
    main()
