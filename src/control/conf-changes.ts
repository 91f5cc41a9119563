import { DEFAULT_CONFIG, type CeleryConfig } from '../config/config';
import { celeryConfDefaults } from '../protocol/control-conf';
import type { PyValue } from '../serialization/py-values';

/** `taskDefaultQueue` → `task_default_queue` (settings are Celery's names in camelCase). */
export function snakeSetting(camel: string): string {
  return camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function asPy(v: unknown): PyValue | undefined {
  if (v === null || ['string', 'number', 'boolean', 'bigint'].includes(typeof v)) {
    return v as PyValue;
  }
  if (Array.isArray(v)) {
    const items = v.map(asPy);
    return items.every((x) => x !== undefined) ? items : undefined;
  }
  if (typeof v === 'object' && v.constructor === Object) {
    const out: Record<string, PyValue> = {};
    for (const [k, x] of Object.entries(v)) {
      const p = asPy(x);
      if (p === undefined) return undefined;
      out[k] = p;
    }
    return out;
  }
  return undefined;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * What `app.conf.table()` (without defaults) shows for this worker: the Celery settings whose
 * value differs from the default, plus `broker_url` and `result_backend` (a Celery app given
 * `broker=`/`backend=` always lists them). Settings Celery does not know (`celeryLine`,
 * `jsonDialect`) are left out.
 */
export function confChanges(config: CeleryConfig): Record<string, PyValue> {
  const known = celeryConfDefaults('5.7');
  const out: Record<string, PyValue> = {
    broker_url: config.brokerUrl,
    result_backend: config.resultBackend,
  };
  const defaults = DEFAULT_CONFIG as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(config as unknown as Record<string, unknown>)) {
    const snake = snakeSetting(k);
    if (!(snake in known) || snake in out || same(v, defaults[k])) continue;
    const p = asPy(v);
    if (p !== undefined) out[snake] = p;
  }
  return out;
}
