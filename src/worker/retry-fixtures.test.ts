import type { Delivery } from '../brokers/broker';
import { CELERY_LINES, resolveConfig, type CeleryLine } from '../config/config';
import type { DeliveryInfo, RawMessage } from '../protocol/raw-message';
import { decodeTaskMessage } from '../protocol/task-decode';
import { encodeTaskMessage } from '../protocol/task-message';
import { PyDateTime, type PyValue } from '../serialization/py-values';
import { loads } from '../serialization/registry';
import {
  fixtureDialect,
  fromB64,
  listFixtures,
  loadFixture,
  toB64,
  type FixtureCase,
} from '../../test/support/fixtures';
import { WorkerRequest } from './request';
import { planRetry } from './retry';
import type { RetryOptions } from './exceptions';
import { defineTask } from './task';

/**
 * The retry message the worker publishes, against what Celery's own `Request` + tracer published
 * when the same delivered message's task called `self.retry(...)` (`python-peers/fixtures/
 * cases_retry.py`): headers (and their order), properties, body bytes and routing, every line.
 */
type Dict = Record<string, PyValue>;

/** Pinned by the generator (`python-peers/fixtures/pinning.py`). */
const NOW_ISO = '2026-01-02T03:04:05.678901+00:00';
const NOW = new Date(NOW_ISO);
const ORIGIN = 'gen4242@fixture-host';

const retrying = defineTask('fixtures.retrying', () => null, { maxRetries: 3 });

function ordered(values: Dict, order: readonly PyValue[]): Dict {
  return Object.fromEntries(order.map((k) => [k as string, values[k as string] as PyValue]));
}

/** The captured publish as the raw message a consumer hands the worker. */
function rawOf(c: Dict): RawMessage {
  return {
    body: fromB64(c.body_b64 as string),
    contentType: c.content_type as string,
    contentEncoding: c.content_encoding as string,
    headers: ordered(c.headers as Dict, c.headers_order as PyValue[]),
    properties: ordered(c.properties as Dict, c.properties_order as PyValue[]),
  };
}

function deliveryOf(message: RawMessage, info: Dict): Delivery {
  const deliveryInfo: DeliveryInfo = {
    exchange: info.exchange as string,
    routing_key: info.routing_key as string,
    ...(typeof info.priority === 'number' ? { priority: info.priority } : {}),
  };
  return {
    message,
    deliveryInfo,
    deliveryTag: 'tag',
    redelivered: info.redelivered === true,
    queue: info.routing_key as string,
    session: 0,
    isVoid: false,
    ack: () => Promise.resolve(),
    reject: () => Promise.resolve(),
  };
}

function retryOptions(r: Dict): RetryOptions {
  const o: RetryOptions = {};
  if (typeof r.countdown === 'number') o.countdown = r.countdown;
  if (typeof r.eta === 'string') o.eta = new Date(r.eta);
  if ('expires' in r && r.expires === null) o.expires = null;
  if (Array.isArray(r.args)) o.args = r.args as PyValue[];
  return o;
}

const fixtures = listFixtures('retry').map(({ file, line }) => loadFixture(file, line));

function plan(fx: FixtureCase) {
  const line = fx.line as CeleryLine;
  const config = resolveConfig({ celeryLine: line, jsonDialect: fixtureDialect(fx) });
  const raw = rawOf(fx.input.incoming as Dict);
  const req = new WorkerRequest(
    decodeTaskMessage(raw),
    deliveryOf(raw, fx.input.delivery_info as Dict),
    retrying,
    'w1@fixture-host',
    config,
  );
  return planRetry(req, retryOptions(fx.input.retry as Dict), config, NOW);
}

describe('the worker’s retry message is Celery’s (Task.retry → signature_from_request)', () => {
  it('covers every line the generator ran', () => {
    const lines = new Set(fixtures.map((f) => f.line));
    for (const l of ['5.7', '5.2', '4.4']) expect(lines).toContain(l);
    expect(lines.size).toBe(CELERY_LINES.length);
  });

  const published = fixtures.filter((f) => f.meta.compare === 'bytes');
  it.each(published.map((f) => [f.file, f] as const))('%s', (_f, fx) => {
    const e = fx.expected;
    const p = plan(fx);
    // The clock as a datetime: the generator's pinned now has microseconds a JS Date lacks.
    const now = new PyDateTime(NOW_ISO);
    const m = encodeTaskMessage(p.input, { now, origin: ORIGIN, replyTo: '' });
    const headers = m.headers;
    expect(Object.keys(headers)).toEqual(e.headers_order);
    expect(headers).toEqual(e.headers);
    expect(m.properties).toEqual(ordered(e.properties as Dict, e.properties_order as PyValue[]));
    expect(Object.keys(m.properties)).toEqual(e.properties_order);
    const body = loads(m.body, m.contentType, m.contentEncoding);
    expect(body).toEqual(loads(fromB64(e.body_b64 as string), m.contentType, m.contentEncoding));
    expect(toB64(m.body)).toBe(e.body_b64);
    expect(p.target.routingKey).toBe(e.routing_key);
    expect(p.target.exchange).toBe(e.exchange);
  });

  // Celery < 5.3 cannot retry a request that has `expires` (`send_task` compares the request's
  // ISO string with 0: TypeError → `Reject(requeue=False)`, the task is gone). We do better and
  // send the retry, keeping the request's expiry (docs/worker-reliability.md).
  const failed = fixtures.filter((f) => f.meta.compare === 'none-published');
  it.each(failed.map((f) => [f.file, f] as const))('%s: Celery lost it, we retry', (_f, fx) => {
    expect(['4.4', '5.0', '5.1', '5.2']).toContain(fx.line);
    const p = plan(fx);
    expect(p.input.retries).toBe(1);
    expect(typeof p.input.expires).toBe('string');
  });
});
