import { PyDateTime, PyDecimal, PyFloat, type PyValue } from '../serialization/py-values';
import { PyTupleView, type ReprValue } from './repr';
import { saferepr, streamingSaferepr } from './saferepr';

let seed = 12345;
function rnd(): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
}
const STRS = ['', 'a', "it's", 'say "hi"', 'é✓', '😀x', 'word word ', 'x'.repeat(30), 'a\nb'];

function gen(depth: number): ReprValue {
  const r = rnd();
  if (depth > 5 || r < 0.4) {
    const scalars: ReprValue[] = [
      null,
      true,
      Math.floor(rnd() * 1000) - 500,
      rnd() * 100,
      new PyFloat(Math.floor(rnd() * 10)),
      10n ** 20n,
      new PyDecimal('1.50'),
      new Uint8Array([0x61, 0xff]),
      new PyDateTime('2024-01-02T03:04:05.123456+00:00'),
      STRS[Math.floor(rnd() * STRS.length)] ?? '',
    ];
    return scalars[Math.floor(rnd() * scalars.length)] ?? null;
  }
  const items = Array.from({ length: Math.floor(rnd() * 4) }, () => gen(depth + 1));
  if (r < 0.6) return items as PyValue[];
  if (r < 0.8) return new PyTupleView(items);
  const d: Record<string, PyValue> = {};
  items.forEach((v, i) => {
    d[`${STRS[i % STRS.length] ?? ''}${String(i)}`] = v instanceof PyTupleView ? [] : v;
  });
  return d;
}

describe('saferepr direct path', () => {
  it('renders exactly what the streaming port renders, for any maxlen/maxlevels', () => {
    for (let i = 0; i < 30000; i++) {
      const v = gen(0);
      const opts = {
        maxlevels: Math.floor(rnd() * 5),
        ...(rnd() < 0.2 ? {} : { maxlen: Math.floor(rnd() * 120) }),
      };
      const fast = saferepr(v, opts);
      const ref = streamingSaferepr(v, opts);
      if (fast !== ref) throw new Error(`differs (${JSON.stringify(opts)}): ${fast} vs ${ref}`);
    }
    expect(saferepr([[[[1]]]], { maxlen: 1024 })).toBe('[[[[...]]]]');
  });
});
