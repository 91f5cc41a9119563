import type { MessageProperties } from '../../protocol/raw-message';

/** SQS accepts at most 900 seconds of per-message delay (`MAX_DELAY_SECONDS`). */
const MAX_DELAY_SECONDS = 900;

/**
 * `Channel._resolve_delay_seconds` (kombu 5.7; kombu 5.2 has no per-message delay): the
 * `delay_seconds` or `DelaySeconds` property, truncated to an int and clamped to 900; negative
 * or non-numeric values mean no delay. Celery's countdown/ETA never sets it: those are held by
 * the worker, as on every other transport. Pure.
 */
export function delaySeconds(props: MessageProperties): number | undefined {
  for (const key of ['delay_seconds', 'DelaySeconds']) {
    if (!(key in props)) continue;
    const v = props[key];
    if (v === undefined || v === null) continue;
    const n =
      typeof v === 'number' || typeof v === 'bigint' || typeof v === 'string' ? Number(v) : NaN;
    if (!Number.isFinite(n)) return undefined;
    const d = Math.trunc(n);
    if (d < 0) return undefined;
    return Math.min(d, MAX_DELAY_SECONDS);
  }
  return undefined;
}

/** Python `str(v)` for the scalar property values SQS parameters take (group/dedup ids). */
export function propText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return v === undefined ? '' : JSON.stringify(v);
}
