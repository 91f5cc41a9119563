import { hostname } from 'node:os';
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
  /** A canvas instead of one task: each step a signature on the case's queue. */
  canvas?: CanvasSpec;
  /**
   * Sent after every other case of the row is done. With an `expires` the producer also sets the
   * AMQP `expiration` property (Celery ≥5.2, `send_task`), and RabbitMQ drops a message that waits
   * in the queue longer than that: no worker sees it, no REVOKED is stored, with Python's producer
   * as with ours. While a row's other cases fill the queue in front of a worker (a quorum queue's
   * prefetch cannot grow for held ETA tasks), such a message can wait longer than 1 s under load;
   * a CI run lost it so (state PENDING after 30 s). Rows on other brokers (no TTL in kombu's
   * Redis and SQS transports) send it with the rest.
   */
  quietQueue?: true;
  /** A remote-control command instead of a task, addressed to the worker under test. */
  control?: 'ping';
  expect: Expectation;
}

/** One signature of a canvas case. */
export interface CanvasStep {
  task: string;
  args: PyValue[];
}

/** A chain, a group, or a chord (header + body), built with each side's own canvas API. */
export type CanvasSpec =
  | { kind: 'chain' | 'group'; steps: CanvasStep[] }
  | { kind: 'chord'; steps: CanvasStep[]; body: CanvasStep };

/** What a case is run with. */
export interface CaseContext {
  serializer: 'json' | 'msgpack' | 'yaml';
  protocol: 1 | 2;
  line: CeleryLine;
  queue: string;
  /** Which side sends (builds the canvas). */
  producer: 'node' | 'python';
}

/** The node name of the worker a case runs on (`-n py-<queue>@%h` / `ts-<queue>@%h`). */
export function workerNode(ctx: CaseContext): string {
  return `${ctx.producer === 'node' ? 'py' : 'ts'}-${ctx.queue}@${hostname()}`;
}

/**
 * Why a case cannot apply whatever the estate, as Celery has it; `null` when it applies. A Python
 * producer cannot send a chain or chord as yaml: a chain's/chord's message carries Celery
 * `Signature`s (a dict subclass), and kombu's yaml encoder is `yaml.safe_dump`
 * (kombu/serialization.py, `register_yaml`), which refuses them with
 * `EncodeError('cannot represent an object', …)`. A group's members carry none.
 */
export function celeryNotApplicable(c: ConformanceCase, ctx: CaseContext): string | null {
  if (
    ctx.producer === 'python' &&
    ctx.serializer === 'yaml' &&
    (c.canvas?.kind === 'chain' || c.canvas?.kind === 'chord')
  ) {
    return "kombu's yaml encoder (yaml.safe_dump, kombu/serialization.py register_yaml) cannot represent Celery's Signature: EncodeError('cannot represent an object') before publishing";
  }
  return null;
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
    // Canvas (issue 9: canvas on the redis backend in every estate): values flow along a chain,
    // a group keeps member order, a chord's body gets the header's results in order.
    {
      name: 'canvas-chain',
      task: 'conformance.add',
      args: [],
      canvas: {
        kind: 'chain',
        steps: [
          { task: 'conformance.add', args: [2, 3] },
          { task: 'conformance.mul', args: [4] },
          { task: 'conformance.add', args: [1] },
        ],
      },
      expect: { state: 'SUCCESS', value: 21 },
    },
    {
      name: 'canvas-group',
      task: 'conformance.add',
      args: [],
      canvas: {
        kind: 'group',
        steps: [
          { task: 'conformance.add', args: [1, 1] },
          { task: 'conformance.mul', args: [2, 3] },
          { task: 'conformance.identity', args: ['x'] },
        ],
      },
      expect: { state: 'SUCCESS', value: [2, 6, 'x'] },
    },
    {
      name: 'canvas-chord',
      task: 'conformance.tsum',
      args: [],
      canvas: {
        kind: 'chord',
        steps: [
          { task: 'conformance.add', args: [1, 2] },
          { task: 'conformance.add', args: [3, 4] },
          { task: 'conformance.mul', args: [2, 2] },
        ],
        body: { task: 'conformance.tsum', args: [] },
      },
      expect: { state: 'SUCCESS', value: 14 },
    },
    // Remote control: `control.ping(destination=[the worker])` from the producer's side, the
    // reply as Celery returns it, `[{nodename: {'ok': 'pong'}}]`.
    {
      name: 'control-ping',
      task: 'ping',
      args: [],
      control: 'ping',
      expect: {
        state: 'SUCCESS',
        check: (v, c) => {
          const node = workerNode(c);
          if (!Array.isArray(v) || v.length !== 1)
            return `${Array.isArray(v) ? String(v.length) : 'no'} replies`;
          const r = (v as readonly PyValue[])[0];
          if (!isDict(r) || Object.keys(r).join() !== node) return `reply not from ${node}`;
          const pong = r[node];
          return isDict(pong) && pong.ok === 'pong' ? null : 'no pong';
        },
      },
    },
    {
      name: 'expired-before-eta',
      task: 'conformance.add',
      args: [1, 1],
      // 2.5 s, not 2: Celery 5.6's rpc client treats each idle 1 s drain timeout as a lost
      // connection and re-declares its auto_delete reply queue (`celery/backends/rpc.py`,
      // `reconnect_on_error`; fixed in 5.7), so a REVOKED result sent on a whole second can land in
      // that gap and be dropped by RabbitMQ; a Python 5.6 worker lost it in 7 of 12 runs too.
      countdown: 2.5,
      expires: 1,
      quietQueue: true,
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
