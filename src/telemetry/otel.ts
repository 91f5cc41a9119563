import type { Context, TextMapGetter, TracerProvider } from '@opentelemetry/api';
import { pyRepr } from '../protocol/repr';
import { withTraceContext } from '../protocol/trace-context';
import type { PyValue } from '../serialization/py-values';
import type { TraceOutcome } from '../worker/tracer';
import type { Instrumentation } from './instrumentation';
import { loadOtelApi } from './otel-api';
import { publishAttributes, pyExcStr, runAttributes } from './otel-attributes';

/** Options of {@link otelInstrumentation}, named after `CeleryInstrumentor().instrument(...)`. */
export interface OtelOptions {
  /**
   * `tracer_provider` (an `@opentelemetry/api` `TracerProvider`); default the global one
   * (`trace.setGlobalTracerProvider`, NodeSDK). Typed structurally so that the declarations
   * do not need the optional peer installed.
   */
  tracerProvider?: { getTracer(name: string, version?: string, options?: object): object };
  /**
   * `use_span_links`: the run span links to the publisher's span instead of being its child
   * (a new trace per run).
   */
  useSpanLinks?: boolean;
}

/**
 * Python's `CeleryGetter` reads the request context's attributes, which hold the message
 * headers (`celery/worker/request.py`, `Request.request_dict`); non-strings are stringified.
 */
const headersGetter: TextMapGetter<Readonly<Record<string, PyValue>>> = {
  get(carrier, key) {
    const v = carrier[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v;
    return Array.isArray(v)
      ? (v as PyValue[]).map((x) => (typeof x === 'string' ? x : pyRepr(x)))
      : pyRepr(v);
  },
  keys: () => [],
};

const errorOf = (e: unknown): { name: string; message: string } =>
  e instanceof Error ? e : { name: 'Error', message: typeof e === 'string' ? e : 'unknown error' };

const STATE: Record<TraceOutcome['kind'], string> = {
  success: 'SUCCESS',
  failure: 'FAILURE',
  retry: 'RETRY',
  reject: 'REJECTED',
  ignore: 'IGNORED',
  terminated: 'REVOKED',
  abandoned: 'FAILURE',
};

/**
 * OpenTelemetry tracing as opentelemetry-instrumentation-celery does it
 * (`opentelemetry/instrumentation/celery/__init__.py`, `CeleryInstrumentor`), so Node and
 * Python hops make one trace:
 * - each task message published gets a PRODUCER span `apply_async/<task>`, and the W3C trace
 *   context of that span (the global propagator: `traceparent`, `tracestate`, `baggage`) is
 *   added to the message headers, where the Python instrumentation injects it;
 * - each run in the worker is a CONSUMER span `run/<task>` whose parent is extracted from those
 *   headers, active while the task runs (so what the task publishes is its child), marked ERROR
 *   with the exception on failure (`_trace_failure`).
 *
 * A no-op when `@opentelemetry/api` is not installed (and, as the API is, without an SDK).
 * Pass it as `createApp({ instrumentation: otelInstrumentation() })`.
 */
export function otelInstrumentation(o: OtelOptions = {}): Instrumentation {
  const api = loadOtelApi();
  if (!api) return {};
  const { trace, context, propagation, SpanKind, SpanStatusCode } = api;
  const provider = (o.tracerProvider as TracerProvider | undefined) ?? trace.getTracerProvider();
  const tracer = provider.getTracer('celery-wire', '0.1.0', {
    schemaUrl: 'https://opentelemetry.io/schemas/1.11.0',
  });
  return {
    publish(task) {
      const { target, message } = task.item;
      const span = tracer.startSpan(`apply_async/${task.task}`, {
        kind: SpanKind.PRODUCER,
        attributes: publishAttributes(task.task, task.id, target),
      });
      const carrier: Record<string, string> = {};
      propagation.inject(trace.setSpan(context.active(), span), carrier);
      return {
        item: { ...task.item, message: withTraceContext(message, carrier) },
        end(error) {
          if (error !== undefined) {
            const e = errorOf(error);
            span.recordException(e);
            span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
          }
          span.end();
        },
      };
    },
    async run(req, run) {
      const active = context.active();
      const extracted: Context = propagation.extract(active, req.decoded.headers, headersGetter);
      const remote = trace.getSpanContext(extracted);
      const linked = o.useSpanLinks === true && remote !== undefined;
      const span = tracer.startSpan(
        `run/${req.name}`,
        { kind: SpanKind.CONSUMER, ...(linked ? { links: [{ context: remote }] } : {}) },
        linked ? active : extracted,
      );
      const base = linked ? active : extracted;
      let outcome: TraceOutcome | undefined;
      try {
        outcome = await context.with(trace.setSpan(base, span), run);
        return outcome;
      } catch (e) {
        const err = errorOf(e);
        span.recordException(err);
        span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
        throw e;
      } finally {
        if (outcome?.kind === 'failure') {
          const message = pyExcStr(outcome.info.args);
          span.recordException({ name: outcome.info.excType, message });
          span.setStatus({ code: SpanStatusCode.ERROR, message });
        }
        span.setAttributes(runAttributes(req, outcome ? STATE[outcome.kind] : 'FAILURE'));
        span.end();
      }
    },
  };
}
