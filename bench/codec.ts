import { decodeRedisEnvelope, encodeRedisEnvelope } from '../src/protocol/redis-envelope';
import { encodeTaskMessage, decodeTaskMessage, type TaskInput } from '../src/protocol/task-message';
import { opsPerSecond, type BenchRow } from './measure';
import { runPythonJson } from './python';

/**
 * The "typical v2 json task message" both sides encode and decode: the same inputs as
 * python-peers/bench/codec_bench.py (a two-int add with a small kwargs dict).
 */
const INPUT: TaskInput = {
  task: 'conformance.add',
  id: '6d1c0f0a-2f0e-4e8f-9d1e-0f0a2f0e4e8f',
  args: [2, 3],
  kwargs: { label: 'bench', weights: [0.25, 0.5, 1.5], flag: true },
};
const ENV = {
  now: new Date('2026-01-02T03:04:05.678Z'),
  origin: 'gen1@bench',
  replyTo: '11111111-2222-3333-4444-555555555555',
};

interface PythonCodecRates {
  celery: string;
  kombu: string;
  body_encode_per_s: number;
  body_decode_per_s: number;
  wire_encode_per_s: number;
  wire_decode_per_s: number;
}

const ROUTE = { exchange: '', routing_key: 'celery' };
const TAG = '00000000-0000-4000-8000-000000000001';

/**
 * Encode/decode rate of a typical v2 json task message, beside Celery/kombu's own, at two levels
 * (see python-peers/bench/codec_bench.py): `body` (headers + serialized body) and `wire` (the
 * kombu Redis envelope a client LPUSHes / a worker pops, through to a validated request).
 */
export async function benchCodec(seconds: number): Promise<BenchRow[]> {
  const encoded = encodeTaskMessage(INPUT, ENV);
  const envelope = encodeRedisEnvelope(encoded, ROUTE, TAG);
  const ours = {
    body_encode_per_s: opsPerSecond(() => encodeTaskMessage(INPUT, ENV), seconds),
    body_decode_per_s: opsPerSecond(() => decodeTaskMessage(encoded), seconds),
    wire_encode_per_s: opsPerSecond(
      () => encodeRedisEnvelope(encodeTaskMessage(INPUT, ENV), ROUTE, TAG),
      seconds,
    ),
    wire_decode_per_s: opsPerSecond(
      () => decodeTaskMessage(decodeRedisEnvelope(envelope).message),
      seconds,
    ),
  };
  const py = await runPythonJson<PythonCodecRates>('python-peers/bench/codec_bench.py', [
    String(seconds),
  ]);
  const rows: [keyof typeof ours, string][] = [
    ['wire_encode_per_s', 'encode task → Redis envelope (send_task path)'],
    ['wire_decode_per_s', 'decode Redis envelope → validated request (worker path)'],
    ['body_encode_per_s', 'encode task → headers + json body (as_task_v2 + dumps)'],
    ['body_decode_per_s', 'decode json body + v2 checks (loads)'],
  ];
  return rows.map(([key, name]) => ({
    name: `${name}, vs Celery ${py.celery}`,
    ours: ours[key],
    python: py[key],
    unit: 'msg/s',
    targetRatio: 10,
  }));
}
