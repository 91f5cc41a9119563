import type { CeleryLine } from '../../../src/config/config';
import { quirksOf } from '../../../src/protocol/line-quirks';
import { PyDateTime, PyFloat, type PyValue } from '../../../src/serialization/py-values';

/** What a case must produce, judged after deserialization on the caller's side. */
export type Expectation =
  | {
      state: 'SUCCESS';
      value?: PyValue;
      check?: (value: PyValue, ctx: CaseContext) => string | null;
    }
  | { state: 'FAILURE'; excType: string; excModule: string; excArgs: PyValue[] }
  | { state: 'REVOKED' };

/** One call of the conformance catalogue (/work/shared/spec/conformance-tasks.md). */
export interface ConformanceCase {
  name: string;
  task: string;
  args: PyValue[];
  kwargs?: Record<string, PyValue>;
  countdown?: number;
  expires?: number;
  /** Minimum seconds between send and ready (ETA honoured). */
  minElapsed?: number;
  expect: Expectation;
}

/** What a case is run with. */
export interface CaseContext {
  serializer: 'json' | 'msgpack' | 'yaml';
  protocol: 1 | 2;
  line: CeleryLine;
  queue: string;
}

function isDict(v: PyValue | undefined): v is Record<string, PyValue> {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    Object.getPrototypeOf(v) === Object.prototype
  );
}

/**
 * The cases every cell of the matrix runs. Values are chosen to catch the classic losses: ints
 * beyond 2^53, `1.0` vs `1`, non-BMP unicode, nested containers, bytes (msgpack), datetimes
 * (kombu ≥5.3 json), exceptions rebuilt as builtins, ETA, expiry.
 */
export function casesFor(ctx: CaseContext): ConformanceCase[] {
  // Python's msgpack cannot pack ints beyond 64 bits; json and yaml carry any size.
  const big = ctx.serializer === 'msgpack' ? 2n ** 62n : 2n ** 70n;
  const values: PyValue[] = [
    big,
    new PyFloat(1),
    0.1,
    'héllo ✓ 🎉',
    null,
    true,
    [1, [2, { a: 3 }]],
  ];
  const cases: ConformanceCase[] = [
    { name: 'add', task: 'conformance.add', args: [2, 3], expect: { state: 'SUCCESS', value: 5 } },
    {
      name: 'echo-values',
      task: 'conformance.echo',
      args: values,
      kwargs: { k: 'v' },
      expect: { state: 'SUCCESS', value: { args: values, kwargs: { k: 'v' } } },
    },
    {
      name: 'fail-keyerror',
      task: 'conformance.fail',
      args: ['KeyError', 'nope'],
      expect: { state: 'FAILURE', excType: 'KeyError', excModule: 'builtins', excArgs: ['nope'] },
    },
    {
      name: 'fail-valueerror',
      task: 'conformance.fail',
      args: [],
      kwargs: { exc_type: 'ValueError', message: 'boom' },
      expect: { state: 'FAILURE', excType: 'ValueError', excModule: 'builtins', excArgs: ['boom'] },
    },
    {
      name: 'context',
      task: 'conformance.context',
      args: [],
      expect: {
        state: 'SUCCESS',
        check: (v, c) => {
          if (!isDict(v)) return 'not a dict';
          if (v.task !== 'conformance.context') return 'task';
          if (v.retries !== 0) return 'retries';
          // Protocol 1 carries no root_id (`as_task_v1`); Celery's request then has None.
          const root = c.protocol === 2 ? v.id : null;
          if (v.root_id !== root) return `root_id ${v.root_id === null ? 'null' : 'set'}`;
          if (v.parent_id !== null) return 'parent_id not null';
          const di = v.delivery_info;
          if (!isDict(di) || di.routing_key !== c.queue) return 'delivery_info.routing_key';
          if (typeof v.hostname !== 'string' || v.hostname === '') return 'hostname';
          // A Celery 5.0.5 worker (solo pool) reports the bare host name here, not `name@host`
          // (observed with python-peers/worker.sh -n py-…@%h); every other line the node name.
          if (c.line !== '5.0' && !v.hostname.includes('@')) return 'hostname';
          return null;
        },
      },
    },
    {
      name: 'progress',
      task: 'conformance.progress',
      args: [3],
      expect: { state: 'SUCCESS', value: 3 },
    },
    {
      name: 'retry-once',
      task: 'conformance.retry',
      args: [1],
      expect: { state: 'SUCCESS', value: 1 },
    },
    {
      name: 'countdown',
      task: 'conformance.mul',
      args: [6, 7],
      countdown: 1,
      minElapsed: 0.9,
      expect: { state: 'SUCCESS', value: 42 },
    },
    {
      name: 'expired-before-eta',
      task: 'conformance.add',
      args: [1, 1],
      countdown: 2,
      expires: 1,
      expect: { state: 'REVOKED' },
    },
  ];
  // Bytes come back through the result backend, whose json cannot carry bytes before kombu 5.3
  // (lines 4.4–5.2).
  if (ctx.serializer === 'msgpack' && quirksOf(`celery-${ctx.line}`).taggedJson) {
    const bytes = Uint8Array.from([0, 1, 254, 255]);
    cases.push({
      name: 'echo-bytes',
      task: 'conformance.identity',
      args: [bytes],
      expect: { state: 'SUCCESS', value: Buffer.from(bytes) },
    });
  }
  if (ctx.serializer === 'json' && quirksOf(`celery-${ctx.line}`).taggedJson) {
    const when = new PyDateTime('2024-01-02T03:04:05.678901+00:00');
    cases.push({
      name: 'echo-datetime',
      task: 'conformance.identity',
      args: [when],
      expect: { state: 'SUCCESS', value: when },
    });
  }
  return cases;
}
