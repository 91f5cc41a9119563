import { resolveConfig } from '../config/config';
import type { Delivery } from '../brokers/broker';
import { encodeTaskMessage } from '../protocol/task-message';
import { decodeTaskMessage } from '../protocol/task-decode';
import { settlementFor } from './ack-policy';
import { WorkerRequest } from './request';
import { defineTask, type TaskOptions } from './task';
import type { TraceOutcome } from './tracer';

/**
 * `celery/worker/request.py` (5.7): under `acks_late`, `acks_on_failure` decides a failure and
 * `acks_on_timeout` a hard time limit; both fall back to `acks_on_failure_or_timeout`
 * (`Task.bind`), and the task's own options win over the settings.
 */
const ENV = { now: new Date('2026-01-02T03:04:05Z'), origin: 'gen1@h', replyTo: 'r-1' };
const raw = encodeTaskMessage({ task: 't.x', id: 'i' }, ENV);
const delivery: Delivery = {
  message: raw,
  deliveryInfo: { exchange: '', routing_key: 'q' },
  deliveryTag: 'tag',
  redelivered: false,
  queue: 'q',
  session: 0,
  isVoid: false,
  ack: () => Promise.resolve(),
  reject: () => Promise.resolve(),
};

function request(opts: TaskOptions, config = resolveConfig()): WorkerRequest {
  return new WorkerRequest(
    decodeTaskMessage(raw),
    delivery,
    defineTask('t.x', () => null, opts),
    'w@h',
    config,
  );
}

const info = { excType: 'KeyError', excModule: 'builtins', args: [] };
const failure: TraceOutcome = { kind: 'failure', info, timeout: false };
const timeout: TraceOutcome = { kind: 'failure', info, timeout: true };

describe('settlementFor (acks_on_failure / acks_on_timeout)', () => {
  it('acks failures and time limits by default, early or late', () => {
    for (const o of [{}, { acksLate: true }]) {
      expect(settlementFor(failure, request(o))).toEqual({ how: 'ack' });
      expect(settlementFor(timeout, request(o))).toEqual({ how: 'ack' });
    }
  });
  it('rejects a failure unrequeued and requeues a time limit when the flags are off', () => {
    const off = request({ acksLate: true, acksOnFailureOrTimeout: false });
    expect(settlementFor(failure, off)).toEqual({ how: 'reject', requeue: false });
    expect(settlementFor(timeout, off)).toEqual({ how: 'reject', requeue: true });
  });
  it('lets the specific flags override the combined one, and options override settings', () => {
    const failOff = request({ acksLate: true, acksOnFailure: false });
    expect(settlementFor(failure, failOff)).toEqual({ how: 'reject', requeue: false });
    expect(settlementFor(timeout, failOff)).toEqual({ how: 'ack' });
    const cfg = resolveConfig({ taskAcksOnTimeout: false, taskAcksOnFailureOrTimeout: true });
    const timeoutOff = request({ acksLate: true }, cfg);
    expect(settlementFor(failure, timeoutOff)).toEqual({ how: 'ack' });
    expect(settlementFor(timeout, timeoutOff)).toEqual({ how: 'reject', requeue: true });
    const back = request({ acksLate: true, acksOnTimeout: true }, cfg);
    expect(settlementFor(timeout, back)).toEqual({ how: 'ack' });
  });
  it('never touches an early-acked request and keeps the other outcomes', () => {
    const early = request({ acksOnFailureOrTimeout: false });
    expect(settlementFor(failure, early)).toEqual({ how: 'ack' });
    expect(settlementFor({ kind: 'reject', requeue: true }, early)).toEqual({
      how: 'reject',
      requeue: true,
    });
    expect(settlementFor({ kind: 'abandoned' }, early)).toEqual({ how: 'none' });
  });
});
