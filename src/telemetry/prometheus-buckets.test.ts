import { Histogram, Registry } from 'prom-client';
import { goFloatString, pythonBucketLabels } from './prometheus-buckets';

describe('goFloatString (prometheus_client floatToGoString)', () => {
  it.each<[number, string]>([
    [0.005, '0.005'],
    [1, '1.0'],
    [10, '10.0'],
    [2.5, '2.5'],
    [0.00001, '1e-05'],
    [123456.0, '123456.0'],
    [1000000, '1e+06'],
    [1234567.5, '1.2345675e+06'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    [NaN, 'NaN'],
  ])('%p → %s', (x, want) => {
    expect(goFloatString(x)).toBe(want);
  });
});

describe('pythonBucketLabels', () => {
  it('writes bucket bounds as prometheus_client does, in text and JSON', async () => {
    const registry = new Registry();
    const h = new Histogram({
      name: 'h',
      help: 'x',
      labelNames: ['n'],
      buckets: [0.5, 1, 10],
      registers: [registry],
    });
    pythonBucketLabels(h);
    h.observe({ n: 'a' }, 0.7);
    const text = await registry.metrics();
    expect(text.split('\n').filter((l) => l.startsWith('h_bucket'))).toEqual([
      'h_bucket{le="0.5",n="a"} 0',
      'h_bucket{le="1.0",n="a"} 1',
      'h_bucket{le="10.0",n="a"} 1',
      'h_bucket{le="+Inf",n="a"} 1',
    ]);
    const json = await registry.getMetricsAsJSON();
    const les = json[0]?.values.map((v) => v.labels.le);
    expect(les).toEqual(['0.5', '1.0', '10.0', '+Inf', undefined, undefined]);
  });
});
