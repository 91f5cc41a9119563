import type { Histogram } from 'prom-client';
import { pyFloatRepr } from '../serialization/py-float';

/**
 * prometheus_client's `floatToGoString` (`prometheus_client/utils.py`), which writes the `le`
 * label of every histogram bucket: Python's float repr (`1.0`, `0.005`, `1e-05`), `+Inf`, and
 * Go's switch to an exponent for large values (`1e+06`). prom-client writes `String(bound)`
 * (`1`), and since PromQL compares label values as strings, `sum by (le)` over a Python and a
 * TS worker would split the buckets `1.0`/`1`, breaking `histogram_quantile` on dashboards.
 */
export function goFloatString(d: number): string {
  if (d === Infinity) return '+Inf';
  if (d === -Infinity) return '-Inf';
  if (Number.isNaN(d)) return 'NaN';
  const s = pyFloatRepr(d);
  const dot = s.indexOf('.');
  if (d > 0 && dot > 6) {
    // Python's `rstrip('0.')`: every trailing '0' and '.'.
    const mantissa = `${s[0] ?? ''}.${s.slice(1, dot)}${s.slice(dot + 1)}`.replace(/[0.]+$/, '');
    return `${mantissa}e+0${String(dot - 1)}`;
  }
  return s;
}

type Exported = Awaited<ReturnType<Histogram['get']>>;

/**
 * Make a prom-client histogram export its bucket bounds as prometheus_client does. Both of its
 * export paths are wrapped: `get()` (JSON, `registry.getMetricsAsJSON`) and the untyped
 * `getForPromString()` that `registry.metrics()` prefers since prom-client 15.
 */
export function pythonBucketLabels(h: Histogram): void {
  const fix = (r: Exported): Exported => {
    for (const v of r.values) {
      const le = v.labels.le;
      if (typeof le === 'number') v.labels.le = goFloatString(le);
    }
    return r;
  };
  const self = h as unknown as Record<string, unknown>;
  for (const key of ['get', 'getForPromString']) {
    const orig = self[key];
    if (typeof orig !== 'function') continue;
    const call = orig as (this: Histogram) => Promise<Exported>;
    self[key] = async () => fix(await call.call(h));
  }
}
