import { PyDateTime, PyFloat, type PyValue } from '../../serialization/py-values';
import { plainV2Body, plainV2Headers } from './fast-checks';
import { v2BodySchema, v2HeadersSchema } from './task-schemas';
import { validateWire } from './validator';

function ajvAccepts(schema: object, v: unknown): boolean {
  try {
    validateWire(schema, v, 'x');
    return true;
  } catch {
    return false;
  }
}

// Deterministic LCG so a failure is reproducible.
let seed = 99;
function rnd(): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
}
function pick<T>(xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)] as T;
}

const SCALARS: readonly PyValue[] = [
  null,
  'x',
  '',
  0,
  3,
  1.5,
  -2,
  10n ** 20n,
  new PyFloat(1),
  true,
  false,
  [],
  [null, 1],
  [1, 2, 3],
  ['a'],
  [1],
  {},
  { a: 1 },
  new PyDateTime('2024-01-02T03:04:05+00:00'),
];
const HEADER_KEYS = [
  'lang',
  'task',
  'id',
  'shadow',
  'eta',
  'expires',
  'group',
  'group_index',
  'retries',
  'timelimit',
  'root_id',
  'parent_id',
  'argsrepr',
  'kwargsrepr',
  'origin',
  'ignore_result',
  'replaced_task_nesting',
  'stamped_headers',
  'stamps',
  'compression',
  'custom',
];

const TYPICAL_HEADERS: Record<string, PyValue> = {
  lang: 'py',
  task: 'conformance.add',
  id: 'abc',
  shadow: null,
  eta: null,
  expires: '2026-01-02T03:04:05+00:00',
  group: null,
  group_index: null,
  retries: 0,
  timelimit: [null, new PyFloat(5)],
  root_id: 'abc',
  parent_id: null,
  argsrepr: '(2, 3)',
  kwargsrepr: '{}',
  origin: 'gen1@h',
  ignore_result: null,
  replaced_task_nesting: 0,
  stamped_headers: null,
  stamps: {},
};

describe('fast task-shape checks never accept what ajv rejects', () => {
  it('accepts the shapes Celery sends', () => {
    expect(plainV2Headers(TYPICAL_HEADERS)).toBe(true);
    expect(plainV2Body([[2, 3], { a: 1 }, null])).toBe(true);
    expect(
      plainV2Body([[], {}, { callbacks: null, errbacks: null, chain: null, chord: null }]),
    ).toBe(true);
  });

  it('headers: fast true implies ajv true (random mutations)', () => {
    let fastTrue = 0;
    for (let i = 0; i < 6000; i++) {
      const h: Record<string, PyValue> = { ...TYPICAL_HEADERS };
      const n = 1 + Math.floor(rnd() * 3);
      for (let j = 0; j < n; j++) {
        const k = pick(HEADER_KEYS);
        if (rnd() < 0.15) Reflect.deleteProperty(h, k);
        else h[k] = pick(SCALARS);
      }
      const fast = plainV2Headers(h);
      if (fast) fastTrue++;
      if (fast) expect([i, ajvAccepts(v2HeadersSchema, h)]).toEqual([i, true]);
    }
    expect(fastTrue).toBeGreaterThan(300);
  });

  it('body: fast true implies ajv true (random shapes)', () => {
    const embeds: PyValue[] = [
      null,
      {},
      { callbacks: null },
      { callbacks: [] },
      { chain: [{ task: 'a' }] },
      { chord: null, chain: null },
      { chord: 1 },
      { callbacks: [{ nope: 1 }] },
      [],
      'x',
    ];
    let fastTrue = 0;
    for (let i = 0; i < 5000; i++) {
      const len = pick([2, 3, 3, 3, 4]);
      const body: PyValue[] = [];
      for (let j = 0; j < len; j++) body.push(j === 2 ? pick(embeds) : pick(SCALARS));
      const fast = plainV2Body(body);
      if (fast) fastTrue++;
      if (fast) expect([body, ajvAccepts(v2BodySchema, body)]).toEqual([body, true]);
    }
    expect(fastTrue).toBeGreaterThan(20);
  });
});
