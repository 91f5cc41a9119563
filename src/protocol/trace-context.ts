import type { RawMessage } from './raw-message';

/**
 * A task message with trace-context headers (`traceparent`, `tracestate`, `baggage`) added the
 * way opentelemetry-instrumentation-celery adds them
 * (`opentelemetry/instrumentation/celery/__init__.py`, `CeleryInstrumentor._trace_before_publish`):
 * `inject(headers)` into the `headers` of `before_task_publish`, which is the message's own
 * header dict after Celery merged the caller's headers into it (`celery/app/amqp.py`,
 * `send_task_message`, `headers2.update(headers)`), so the keys come last. A protocol 1 message
 * has empty headers, which the instrumentation skips (`if headers: inject(headers)`): it is
 * returned unchanged. The input is not modified.
 */
export function withTraceContext(
  message: RawMessage,
  carrier: Readonly<Record<string, string>>,
): RawMessage {
  const keys = Object.keys(carrier);
  if (keys.length === 0 || Object.keys(message.headers).length === 0) return message;
  return { ...message, headers: { ...message.headers, ...carrier } };
}

/** The task name and id of a protocol 2 task message (`headers['task']`, `headers['id']`). */
export function taskMessageIdentity(message: RawMessage): { task: string; id: string } | null {
  const { task, id } = message.headers;
  return typeof task === 'string' && typeof id === 'string' ? { task, id } : null;
}
