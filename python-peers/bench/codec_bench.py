"""Python side of `npm run bench`: Celery/kombu's own rate for the operations celery-wire's codec
benchmark measures, so both numbers come from the same machine in the same run.

encode: `AMQP.as_task_v2` (headers, properties, body tuple) + `kombu.serialization.dumps` (json)
decode: `kombu.serialization.loads` of that body + the v2 header checks a worker makes before
        building a Request (task name lookup, body shape)

Prints one JSON object: {"celery": ..., "kombu": ..., "encode_per_s": ..., "decode_per_s": ...}.
"""
import json
import sys
import time

import celery
import kombu
from celery import Celery
from kombu.serialization import dumps, loads

app = Celery("bench", broker="memory://", set_as_current=False)

ARGS = (2, 3)
KWARGS = {"label": "bench", "weights": [0.25, 0.5, 1.5], "flag": True}
TASK_ID = "6d1c0f0a-2f0e-4e8f-9d1e-0f0a2f0e4e8f"


def encode_once():
    msg = app.amqp.as_task_v2(TASK_ID, "conformance.add", ARGS, KWARGS, origin="gen1@bench")
    body = dumps(msg.body, serializer="json")
    return msg.headers, msg.properties, body


def decode_once(headers, body):
    content_type, encoding, data = body
    payload = loads(data, content_type, encoding, accept={"application/json"})
    if not headers.get("task") or not isinstance(payload, (list, tuple)) or len(payload) != 3:
        raise ValueError("bad message")
    args, kwargs, embed = payload
    return args, kwargs, embed


def rate(fn, seconds):
    n = 0
    deadline = time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        for _ in range(200):
            fn()
        n += 200
    return n / (time.perf_counter() - start)


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    headers, _props, body = encode_once()
    enc = rate(encode_once, seconds)
    dec = rate(lambda: decode_once(headers, body), seconds)
    print(json.dumps({"celery": celery.__version__, "kombu": kombu.__version__,
                      "encode_per_s": enc, "decode_per_s": dec}))


if __name__ == "__main__":
    main()
