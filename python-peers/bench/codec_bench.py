"""Python side of `npm run bench` (codec): Celery/kombu's own rate for the operations celery-wire's
codec benchmark measures, on the same machine in the same run.

Two levels, both measured on both sides:
  body  encode = `AMQP.as_task_v2` + `kombu.serialization.dumps` (json)
        decode = `kombu.serialization.loads` of that body + the v2 shape checks
  wire  encode = the above + kombu's Redis envelope (`Channel.prepare_message`, delivery info,
                 `dumps(message)`), i.e. everything `send_task` does before LPUSH
        decode = what a worker does with a popped Redis item: `loads(envelope)`, kombu `Message`,
                 body decode, and celery's `Request` (header parsing, eta/expires, timelimit)

Prints one JSON object with the rates per second.
"""
import json
import sys
import time
import uuid

import celery
import kombu
from celery import Celery
from celery.worker.request import Request
from kombu.serialization import dumps, loads
from kombu.utils.json import dumps as json_dumps, loads as json_loads

app = Celery("bench", broker="memory://", set_as_current=False)


@app.task(name="conformance.add")
def add(x, y, **kwargs):
    return x + y


ARGS = (2, 3)
KWARGS = {"label": "bench", "weights": [0.25, 0.5, 1.5], "flag": True}
TASK_ID = "6d1c0f0a-2f0e-4e8f-9d1e-0f0a2f0e4e8f"
conn = app.connection_for_write()
channel = conn.default_channel


def encode_body():
    msg = app.amqp.as_task_v2(TASK_ID, "conformance.add", ARGS, KWARGS, origin="gen1@bench")
    ctype, enc, body = dumps(msg.body, serializer="json")
    return msg, ctype, enc, body


def encode_wire():
    msg, ctype, enc, body = encode_body()
    props = dict(msg.properties, delivery_mode=2)
    m = channel.prepare_message(body, 0, ctype, enc, msg.headers, props)
    # _inplace_augment_message, as basic_publish does before _put
    m["body"], body_encoding = channel.encode_body(m["body"], channel.body_encoding)
    p = m["properties"]
    p["delivery_info"].update(exchange="", routing_key="celery")
    p["body_encoding"] = body_encoding
    p["delivery_tag"] = str(uuid.uuid4())
    return json_dumps(m)


def decode_body(headers, body):
    ctype, enc, data = body
    payload = loads(data, ctype, enc, accept={"application/json"})
    if not headers.get("task") or not isinstance(payload, (list, tuple)) or len(payload) != 3:
        raise ValueError("bad message")
    return payload


def decode_wire(envelope):
    payload = json_loads(envelope)
    message = channel.Message(payload, channel=channel)
    body, headers = message.decode(), message.headers
    return Request(message, app=app, task=add, hostname="w@bench", body=body, headers=headers,
                   decoded=True, utc=True, on_ack=None, on_reject=None, eventer=None,
                   connection_errors=())


def rate(fn, seconds):
    n = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for _ in range(200):
            fn()
        n += 200
    return n / (time.perf_counter() - start)


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    msg, ctype, enc, body = encode_body()
    envelope = encode_wire()
    decode_wire(envelope)  # fail fast if the path is wrong
    out = {
        "celery": celery.__version__,
        "kombu": kombu.__version__,
        "body_encode_per_s": rate(encode_body, seconds),
        "body_decode_per_s": rate(lambda: decode_body(msg.headers, (ctype, enc, body)), seconds),
        "wire_encode_per_s": rate(encode_wire, seconds),
        "wire_decode_per_s": rate(lambda: decode_wire(envelope), seconds),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
