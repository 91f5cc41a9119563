import { resolveConfig } from '../config/config';
import type { Delivery } from '../brokers/broker';
import { encodeTaskMessage } from '../protocol/task-message';
import { decodeTaskMessage } from '../protocol/task-decode';
import { bindArgs } from './bind-args';
import { MaxRetriesExceededError, PythonError, exceptionInfoOf } from './exceptions';
import { RateLimiter, TokenBucket, parseRate } from './rate-limit';
import { classify } from './receive';
import { WorkerRequest } from './request';
import { planRetry } from './retry';
import { defineTask, TaskRegistry } from './task';
import { formatTraceback } from './traceback';

const ENV = { now: new Date('2026-01-02T03:04:05Z'), origin: 'gen1@h', replyTo: 'r-1' };
const add = defineTask('t.add', (x: unknown, y: unknown) => [x, y], { params: ['x', 'y'] });
const retrying = defineTask('t.retry', () => null, { maxRetries: 2 });
const registry = new TaskRegistry([add, retrying]);

function delivery(raw = encodeTaskMessage({ task: 't.add', id: 'i' }, ENV)): Delivery {
  return {
    message: raw,
    deliveryInfo: { exchange: '', routing_key: 'q', priority: 3 },
    deliveryTag: 'tag',
    redelivered: false,
    queue: 'q',
    session: 0,
    isVoid: false,
    ack: () => Promise.resolve(),
    reject: () => Promise.resolve(),
  };
}

describe('rate limits (celery/utils/time.py rate, kombu TokenBucket)', () => {
  it('parses Celery rate strings to tokens per second', () => {
    expect(parseRate('10/m')).toBeCloseTo(10 / 60);
    expect(parseRate('5/s')).toBe(5);
    expect(parseRate('100/h')).toBeCloseTo(100 / 3600);
    expect(parseRate('7')).toBe(7);
    expect(parseRate(null)).toBe(0);
    expect(() => parseRate('x/m')).toThrow('invalid rate limit');
  });
  it('hands out one token, then waits for the refill', () => {
    let t = 0;
    const b = new TokenBucket(2, 1, () => t);
    expect(b.canConsume()).toBe(true);
    expect(b.canConsume()).toBe(false);
    expect(b.expectedTime()).toBeCloseTo(0.5);
    t = 0.5;
    expect(b.canConsume()).toBe(true);
  });
});

describe('rate limiter (Consumer._limit_task)', () => {
  it('releases in order, one token at a time, and removes the limit on 0', () => {
    jest.useFakeTimers();
    try {
      const out: string[] = [];
      const rl = new RateLimiter<{ name: string; id: string }>((x) => out.push(x.id));
      for (const id of ['a', 'b', 'c']) rl.submit({ name: 't', id }, '2/s');
      expect(out).toEqual(['a']);
      jest.advanceTimersByTime(500);
      expect(out).toEqual(['a', 'b']);
      rl.set('t', 0);
      rl.submit({ name: 't', id: 'd' }, null);
      expect(out).toContain('d');
      jest.advanceTimersByTime(500);
      expect(out).toEqual(['a', 'b', 'd', 'c']);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('argument binding (Python call semantics)', () => {
  it('binds kwargs by name and raises Python TypeErrors', () => {
    expect(bindArgs(add, [1], { y: 2 })).toEqual([1, 2]);
    expect(() => bindArgs(add, [1], {})).toThrow(
      "add() missing 1 required positional argument: 'y'",
    );
    expect(() => bindArgs(add, [1, 2, 3], {})).toThrow(
      'add() takes 2 positional arguments but 3 were given',
    );
    expect(() => bindArgs(add, [1, 2], { z: 1 })).toThrow(
      "add() got an unexpected keyword argument 'z'",
    );
    expect(() => bindArgs(add, [1], { x: 1 })).toThrow(
      "add() got multiple values for argument 'x'",
    );
  });
  it('passes positional args then the kwargs object without params', () => {
    const echo = defineTask('t.echo', () => null);
    expect(bindArgs(echo, [1], { k: 2 })).toEqual([1, { k: 2 }]);
  });
});

describe('exceptions as Python sees them', () => {
  it('maps JavaScript errors to builtins and keeps named Python types', () => {
    expect(exceptionInfoOf(new TypeError('t'))).toEqual({
      excType: 'TypeError',
      excModule: 'builtins',
      args: ['t'],
    });
    expect(exceptionInfoOf(new RangeError('r')).excType).toBe('ValueError');
    expect(exceptionInfoOf(new Error('e')).excType).toBe('Exception');
    expect(exceptionInfoOf('str')).toEqual({
      excType: 'Exception',
      excModule: 'builtins',
      args: ['str'],
    });
    const named = Object.assign(new Error('n'), { pythonType: 'requests.exceptions.HTTPError' });
    expect(exceptionInfoOf(named)).toEqual({
      excType: 'HTTPError',
      excModule: 'requests.exceptions',
      args: ['n'],
    });
    expect(exceptionInfoOf(new MaxRetriesExceededError('m')).excModule).toBe('celery.exceptions');
  });
  it('formats a Python-style traceback ending in the qualified type and str()', () => {
    const e = new PythonError('KeyError', 'nope');
    const tb = formatTraceback(e, exceptionInfoOf(e));
    expect(tb.startsWith('Traceback (most recent call last):\n  File "')).toBe(true);
    expect(tb.endsWith("\nKeyError: 'nope'\n")).toBe(true);
    const m = new MaxRetriesExceededError('x');
    expect(
      formatTraceback(m, exceptionInfoOf(m)).endsWith(
        '\ncelery.exceptions.MaxRetriesExceededError: x\n',
      ),
    ).toBe(true);
  });
});

describe('receipt classification (Consumer.on_task_received)', () => {
  const accept = ['json'];
  it('looks the name up before decoding a v2 body (unknown + pickle = NotRegistered)', () => {
    const raw = encodeTaskMessage({ task: 't.nope', id: 'u1' }, ENV);
    raw.contentType = 'application/x-python-serialize';
    expect(classify(raw, registry, accept)).toMatchObject({
      kind: 'unknown',
      id: 'u1',
      name: 't.nope',
      replyTo: 'r-1',
    });
  });
  it('rejects disallowed content for known tasks, acks undecodable bodies', () => {
    const pickle = encodeTaskMessage({ task: 't.add', id: 'p' }, ENV);
    pickle.contentType = 'application/x-python-serialize';
    expect(classify(pickle, registry, accept).kind).toBe('invalid');
    const bad = encodeTaskMessage({ task: 't.add', id: 'b' }, ENV);
    bad.body = new TextEncoder().encode('[1,');
    expect(classify(bad, registry, accept).kind).toBe('decode-error');
  });
  it('treats v1 decode failures as decode errors and task-less bodies as unknown format', () => {
    const v1 = encodeTaskMessage({ task: 't.add', id: 'v', protocol: 1 }, ENV);
    expect(classify(v1, registry, accept).kind).toBe('task');
    expect(classify({ ...v1, body: new TextEncoder().encode('{') }, registry, accept).kind).toBe(
      'decode-error',
    );
    expect(
      classify({ ...v1, body: new TextEncoder().encode('{"a": 1}') }, registry, accept).kind,
    ).toBe('unknown-format');
  });
});

describe('retry message (Task.retry, behaviour.md §7)', () => {
  const config = resolveConfig();
  const raw = encodeTaskMessage(
    {
      task: 't.retry',
      id: 'r1',
      args: [5],
      expires: '2030-01-01T00:00:00+00:00',
      headers: { custom: 'x' },
      timeLimit: 9,
      // Celery's `Request` takes the delivery priority from the message property.
      priority: 3,
    },
    ENV,
  );
  const req = new WorkerRequest(decodeTaskMessage(raw), delivery(raw), retrying, 'w@h', config);
  it('keeps id, expires, custom headers, routing; bumps retries; parent = own id', () => {
    const plan = planRetry(req, { countdown: 5 }, config);
    expect(plan.input).toMatchObject({
      id: 'r1',
      retries: 1,
      countdown: 5,
      expires: '2030-01-01T00:00:00+00:00',
      parentId: 'r1',
      rootId: 'r1',
      headers: { custom: 'x' },
      timeLimit: 9,
      priority: 3,
    });
    expect(plan.target).toEqual({ exchange: '', routingKey: 'q' });
  });
  it('defaults to 180 s and raises MaxRetriesExceededError with Celery’s message', () => {
    expect(planRetry(req, {}, config).input.countdown).toBe(180);
    expect(() => planRetry(req, { maxRetries: 0 }, config)).toThrow(
      "Can't retry t.retry[r1] args:(5,) kwargs:{}",
    );
  });
});
