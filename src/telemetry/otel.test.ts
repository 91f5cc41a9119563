import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import type { RawMessage } from '../protocol/raw-message';
import { withTraceContext } from '../protocol/trace-context';
import { createApp } from '../app/app';
import type { Broker } from '../brokers/broker';
import { instrumentBroker } from './instrument-broker';
import { otelInstrumentation } from './otel';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});
afterAll(() => {
  context.disable();
  propagation.disable();
});

const msg = (headers: RawMessage['headers']): RawMessage => ({
  body: new Uint8Array(),
  contentType: 'application/json',
  contentEncoding: 'utf-8',
  headers,
  properties: {},
});

/** A broker that records what it was asked to publish. */
function recorder(): { broker: Broker; sent: RawMessage[] } {
  const sent: RawMessage[] = [];
  const broker = {
    publish: (m: RawMessage) => {
      sent.push(m);
      return Promise.resolve();
    },
    publishMany: (items: readonly { message: RawMessage }[]) => {
      for (const i of items) sent.push(i.message);
      return Promise.resolve();
    },
    capabilities: { marker: 'own' },
  } as unknown as Broker;
  return { broker, sent };
}

describe('withTraceContext', () => {
  it('appends the carrier after the existing headers, as inject(headers2) does', () => {
    const m = withTraceContext(msg({ lang: 'py', task: 't', id: '1', x: 1 }), {
      traceparent: '00-a-b-01',
    });
    expect(Object.keys(m.headers)).toEqual(['lang', 'task', 'id', 'x', 'traceparent']);
  });
  it('leaves protocol 1 messages (empty headers) alone, as the instrumentation does', () => {
    const m = msg({});
    expect(withTraceContext(m, { traceparent: '00-a-b-01' })).toBe(m);
  });
});

describe('otelInstrumentation on a broker', () => {
  it('adds a W3C traceparent of the PRODUCER span to task messages only', async () => {
    const r = recorder();
    const b = instrumentBroker(r.broker, otelInstrumentation({ tracerProvider: provider }));
    const target = { exchange: '', routingKey: 'q' };
    await b.publish(msg({ lang: 'py', task: 'a.b', id: 'id-1' }), target);
    await b.publishMany([{ message: msg({ hostname: 'x' }), target }]);
    expect(b.capabilities).toEqual({ marker: 'own' });
    const [task, other] = r.sent;
    const span = exporter.getFinishedSpans().find((s) => s.name === 'apply_async/a.b');
    expect(span?.attributes['messaging.message.id']).toBe('id-1');
    const ctx = span?.spanContext();
    expect(task?.headers.traceparent).toBe(`00-${ctx?.traceId ?? ''}-${ctx?.spanId ?? ''}-01`);
    expect(other?.headers).toEqual({ hostname: 'x' });
  });

  it('is wired by createApp for every publish of the app', async () => {
    const app = createApp({
      brokerUrl: 'memory://obs-otel-unit',
      resultBackend: 'disabled',
      instrumentation: [otelInstrumentation({ tracerProvider: provider })],
    });
    const parent = provider.getTracer('t').startSpan('root');
    await context.with(trace.setSpan(context.active(), parent), () =>
      app.sendTask('a.c', { ignoreResult: true }),
    );
    parent.end();
    const pub = exporter.getFinishedSpans().find((s) => s.name === 'apply_async/a.c');
    expect(pub?.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    await app.close();
  });
});
