"""OpenTelemetry peer: a Celery 5.7 app instrumented with opentelemetry-instrumentation-celery
(the real `CeleryInstrumentor`, W3C trace context by the default global propagator), its spans
written as JSON lines to $OTEL_SPANS_FILE by a SimpleSpanProcessor.

  python -m peer.otel_peer worker           # serves $PY_QUEUE (otel.add, otel.relay)
  python -m peer.otel_peer produce TASK     # a root span, TASK.apply_async((2, 3)), waits

Environment: CELERY_BROKER_URL, CELERY_RESULT_BACKEND, PY_QUEUE (this side's queue), TS_QUEUE
(where the TypeScript worker listens), OTEL_SPANS_FILE.
"""
import json
import os
import sys

from celery import Celery
from opentelemetry import trace
from opentelemetry.instrumentation.celery import CeleryInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

PY_QUEUE = os.environ.get('PY_QUEUE', 'otel-py')
TS_QUEUE = os.environ.get('TS_QUEUE', 'otel-ts')


class JsonLinesExporter(SpanExporter):
    def __init__(self, path):
        self.path = path

    def export(self, spans):
        with open(self.path, 'a', encoding='utf-8') as f:
            for s in spans:
                f.write(json.dumps({
                    'name': s.name,
                    'kind': s.kind.name,
                    'trace_id': format(s.context.trace_id, '032x'),
                    'span_id': format(s.context.span_id, '016x'),
                    'parent_id': format(s.parent.span_id, '016x') if s.parent else None,
                    'status': s.status.status_code.name,
                    'attributes': {k: (list(v) if isinstance(v, tuple) else v)
                                   for k, v in s.attributes.items()},
                    'links': [format(link.context.span_id, '016x') for link in s.links],
                }) + '\n')
        return SpanExportResult.SUCCESS

    def shutdown(self):
        pass


provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(JsonLinesExporter(os.environ['OTEL_SPANS_FILE'])))
trace.set_tracer_provider(provider)

app = Celery(
    'otel_peer',
    broker=os.environ.get('CELERY_BROKER_URL', 'redis://127.0.0.1:6379/0'),
    backend=os.environ.get('CELERY_RESULT_BACKEND', 'redis://127.0.0.1:6379/0'),
)
app.conf.update(
    task_default_queue=PY_QUEUE,
    # Tasks the TypeScript worker serves: declared here so apply_async routes them (and so the
    # instrumentation finds them in the registry to end its publish span).
    task_routes={'otel.ts_*': {'queue': TS_QUEUE}},
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)
# The instrumentation hooks Celery's signals: in the producer and in a solo-pool worker the
# process that publishes / runs is this one.
CeleryInstrumentor().instrument()


@app.task(name='otel.add')
def add(x, y):
    return x + y


@app.task(name='otel.fail')
def fail():
    raise ValueError('boom')


@app.task(name='otel.relay')
def relay(x, y):
    """Runs in Python, publishes otel.ts_add to the TypeScript worker (inside the run span)."""
    return ts_add.apply_async((x, y)).id


@app.task(name='otel.ts_add')
def ts_add(x, y):  # served by the TypeScript worker
    raise NotImplementedError


@app.task(name='otel.ts_relay')
def ts_relay(x, y):  # served by the TypeScript worker
    raise NotImplementedError


def produce(name):
    tracer = trace.get_tracer('otel_peer')
    with tracer.start_as_current_span('py-root') as root:
        result = app.tasks[name].apply_async((2, 3))
        ctx = root.get_span_context()
    value = result.get(timeout=60)
    print(json.dumps({'trace_id': format(ctx.trace_id, '032x'),
                      'root_id': format(ctx.span_id, '016x'),
                      'task_id': result.id, 'result': value}))
    provider.force_flush()


if __name__ == '__main__':
    if sys.argv[1] == 'worker':
        app.worker_main(['worker', '-Q', PY_QUEUE, '-P', 'solo', '-l', 'info',
                         '-n', f'otel-{PY_QUEUE}@%h',
                         '--without-gossip', '--without-mingle', '--without-heartbeat'])
    elif sys.argv[1] == 'produce':
        produce(sys.argv[2])
    else:
        sys.exit(f'unknown mode {sys.argv[1]}')
