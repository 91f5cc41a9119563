import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, propagation, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace';
import { createApp, type CeleryApp } from '../../src/index';
import { otelInstrumentation } from '../../src/telemetry/otel';
import type { Worker } from '../../src/worker/worker';
import { defineTask } from '../../src/worker/task';
import {
  bootstrapOtelVenv,
  pyProduce,
  readPySpans,
  startPyOtelWorker,
  type PeerEnv,
  type PySpan,
} from '../support/otel/python-otel';

/**
 * One trace across Node and Python: celery-wire's `otelInstrumentation()` against a real Celery
 * 5.7 worker and producer instrumented with opentelemetry-instrumentation-celery 0.66b2
 * (python-peers/.venv-otel), both exporting to memory / a file. Each case checks trace ids and
 * the exact parent span ids hop by hop, on Redis and on RabbitMQ.
 */
const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const dir = mkdtempSync(join(tmpdir(), 'obs-otel-'));
const tag = `${String(process.pid)}-${String(Date.now() % 100000)}`;

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  await bootstrapOtelVenv();
});
afterAll(() => {
  trace.disable();
  context.disable();
  propagation.disable();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * A run span ends just after the run stored its result (`task_postrun` comes after the store,
 * in Python as here), so a span may be exported a moment after `.get()` resolved: wait for it.
 */
async function eventually<T>(what: string, find: () => T | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = find();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never exported: ${what}`);
}
const nodeSpan = (name: string, traceId: string): Promise<ReadableSpan> =>
  eventually(`Node span ${name} in trace ${traceId}`, () =>
    exporter.getFinishedSpans().find((x) => x.name === name && x.spanContext().traceId === traceId),
  );
const pySpan = (file: string, name: string, traceId: string): Promise<PySpan> =>
  eventually(`Python span ${name} in trace ${traceId}`, () =>
    readPySpans(file).find((x) => x.name === name && x.trace_id === traceId),
  );

const transports = [
  { name: 'redis', broker: 'redis://127.0.0.1:6379/0', backend: 'redis://127.0.0.1:6379/0' },
  {
    name: 'amqp',
    broker: 'amqp://guest:guest@127.0.0.1:5672//',
    backend: 'redis://127.0.0.1:6379/0',
  },
];

describe.each(transports)('trace context Node ⇄ Python Celery 5.7 over $name', (t) => {
  const peer: PeerEnv = {
    brokerUrl: t.broker,
    backendUrl: t.backend,
    pyQueue: `obs-otel-py-${t.name}-${tag}`,
    tsQueue: `obs-otel-ts-${t.name}-${tag}`,
    spansFile: join(dir, `py-${t.name}.jsonl`),
  };
  let app: CeleryApp;
  let worker: Worker;
  let py: { stop(): Promise<void>; log(): string } | undefined;

  beforeAll(async () => {
    app = createApp({
      brokerUrl: t.broker,
      resultBackend: t.backend,
      instrumentation: otelInstrumentation(),
      tasks: [
        defineTask('otel.ts_add', (x: number, y: number) => x + y),
        defineTask('otel.ts_fail', () => {
          throw new RangeError('ts boom');
        }),
        // Runs in Node and calls Python from inside the run: the publish is the run's child.
        defineTask('otel.ts_relay', async (x: number, y: number) => {
          const r = await app.sendTask<number>('otel.add', { args: [x, y], queue: peer.pyQueue });
          return r.get({ timeout: 60 });
        }),
      ],
    });
    worker = app.worker({
      queues: [peer.tsQueue],
      // Its own node name: on RabbitMQ the pidbox queue is exclusive (Celery 5.7), so a second
      // `celery@<host>` anywhere on the broker refuses this one (405 RESOURCE_LOCKED).
      hostname: `otel-${peer.tsQueue}@%h`,
      concurrency: 2,
      logger: { log: () => undefined },
    });
    await worker.start();
    py = await startPyOtelWorker(peer);
  });
  afterAll(async () => {
    await py?.stop();
    await worker.shutdown();
    await app.close();
  });

  it('Node → Python: the Python run span is the child of the Node publish span', async () => {
    const tracer = trace.getTracer('test');
    const { traceId, rootId, value } = await tracer.startActiveSpan('node-root', async (root) => {
      const r = await app.sendTask<number>('otel.add', { args: [2, 3], queue: peer.pyQueue });
      const v = await r.get({ timeout: 60 });
      root.end();
      return { traceId: root.spanContext().traceId, rootId: root.spanContext().spanId, value: v };
    });
    expect(value).toBe(5);
    const pub = await nodeSpan('apply_async/otel.add', traceId);
    expect(pub.kind).toBe(SpanKind.PRODUCER);
    expect(pub.parentSpanContext?.spanId).toBe(rootId);
    expect(pub.attributes['celery.task_name']).toBe('otel.add');
    const run = await pySpan(peer.spansFile, 'run/otel.add', traceId);
    expect(run.kind).toBe('CONSUMER');
    expect(run.parent_id).toBe(pub.spanContext().spanId);
    expect(run.attributes['messaging.message.id']).toBe(pub.attributes['messaging.message.id']);
  });

  it('Python → Node: the Node run span is the child of the Python publish span', async () => {
    const out = await pyProduce(peer, 'otel.ts_add');
    expect(out.result).toBe(5);
    const pub = await pySpan(peer.spansFile, 'apply_async/otel.ts_add', out.trace_id);
    expect(pub.parent_id).toBe(out.root_id);
    const run = await nodeSpan('run/otel.ts_add', out.trace_id);
    expect(run.kind).toBe(SpanKind.CONSUMER);
    expect(run.parentSpanContext?.spanId).toBe(pub.span_id);
    expect(run.parentSpanContext?.isRemote).toBe(true);
    expect(run.attributes['celery.state']).toBe('SUCCESS');
    expect(run.attributes['messaging.message.id']).toBe(out.task_id);
  });

  it('Python → Node → Python: a task published inside a Node run continues the trace', async () => {
    const out = await pyProduce(peer, 'otel.ts_relay');
    expect(out.result).toBe(5);
    const pyPub = await pySpan(peer.spansFile, 'apply_async/otel.ts_relay', out.trace_id);
    const tsRun = await nodeSpan('run/otel.ts_relay', out.trace_id);
    expect(tsRun.parentSpanContext?.spanId).toBe(pyPub.span_id);
    const tsPub = await nodeSpan('apply_async/otel.add', out.trace_id);
    expect(tsPub.parentSpanContext?.spanId).toBe(tsRun.spanContext().spanId);
    const pyRun = await pySpan(peer.spansFile, 'run/otel.add', out.trace_id);
    expect(pyRun.parent_id).toBe(tsPub.spanContext().spanId);
  });

  it('Node → Python → Node: a task Python publishes inside its run reaches the Node worker in the same trace', async () => {
    const tracer = trace.getTracer('test');
    const traceId = await tracer.startActiveSpan('node-root-2', async (root) => {
      const r = await app.sendTask<string>('otel.relay', { args: [4, 5], queue: peer.pyQueue });
      const childId = await r.get({ timeout: 60 });
      expect(await app.asyncResult<number>(childId).get({ timeout: 60 })).toBe(9);
      root.end();
      return root.spanContext().traceId;
    });
    const nodePub = await nodeSpan('apply_async/otel.relay', traceId);
    const pyRun = await pySpan(peer.spansFile, 'run/otel.relay', traceId);
    expect(pyRun.parent_id).toBe(nodePub.spanContext().spanId);
    const pyPub = await pySpan(peer.spansFile, 'apply_async/otel.ts_add', traceId);
    expect(pyPub.parent_id).toBe(pyRun.span_id);
    const tsRun = await nodeSpan('run/otel.ts_add', traceId);
    expect(tsRun.parentSpanContext?.spanId).toBe(pyPub.span_id);
  });

  it('failures: both sides mark their run span ERROR with the exception', async () => {
    const tracer = trace.getTracer('test');
    const traceId = await tracer.startActiveSpan('node-root-3', async (root) => {
      const a = await app.sendTask('otel.fail', { queue: peer.pyQueue });
      const b = await app.sendTask('otel.ts_fail', { queue: peer.tsQueue });
      await expect(a.get({ timeout: 60 })).rejects.toThrow('boom');
      await expect(b.get({ timeout: 60 })).rejects.toThrow('ts boom');
      root.end();
      return root.spanContext().traceId;
    });
    expect((await pySpan(peer.spansFile, 'run/otel.fail', traceId)).status).toBe('ERROR');
    const tsRun = await nodeSpan('run/otel.ts_fail', traceId);
    expect(tsRun.status.code).toBe(SpanStatusCode.ERROR);
    expect(tsRun.status.message).toBe('ts boom');
    expect(tsRun.events.map((e) => e.name)).toContain('exception');
  });
});
