import { pyTruthy, strArg } from '../protocol/control-args';
import { pyRepr } from '../protocol/repr';
import { isPyDict, type PyValue } from '../serialization/py-values';
import { ok, type ControlHandler } from './pidbox';

/** What `revoke_by_stamped_headers` needs from the worker (`worker_state.revoked_stamps`). */
export interface StampedTarget {
  /** `revoked_stamps[header] = maybe_list(old) + maybe_list(stamps)`. */
  addRevokedStamps(headers: Readonly<Record<string, PyValue>>): void;
  /**
   * Terminate the active requests whose stamps match (`req.terminate(pool, signal)`); returns
   * the matched stamps by header, empty when none matched.
   */
  terminateStamped(
    headers: Readonly<Record<string, PyValue>>,
    signal: string,
  ): Map<string, PyValue[]>;
}

/** A Python `set` repr of scalar values (`{'a', 'b'}`), insertion order. */
function setRepr(values: readonly PyValue[]): string {
  return values.length === 0 ? 'set()' : `{${values.map((v) => pyRepr(v)).join(', ')}}`;
}

/**
 * `revoke_by_stamped_headers` (`celery/worker/control.py`, Celery 5.3+): `headers` is a dict
 * `{stamp: value(s)}` or, from the CLI, a list of `key=value` strings. The stamps are recorded
 * (new requests carrying them are discarded on receipt, `Request.revoked`); with `terminate`
 * running matches are terminated too.
 */
export function stampedRevokeHandler(t: StampedTarget): ControlHandler {
  return (a) => {
    let headers: Record<string, PyValue> = {};
    const raw = a.headers;
    if (Array.isArray(raw)) {
      for (const h of raw) {
        if (typeof h !== 'string') continue;
        const parts = h.split('=');
        headers[parts[0] ?? ''] = parts[1] ?? '';
      }
    } else if (isPyDict(raw)) headers = raw;
    t.addRevokedStamps(headers);
    if (!pyTruthy(a.terminate)) {
      return ok(`headers ${pyRepr(headers)} flagged as revoked, but not terminated`);
    }
    const matched = t.terminateStamped(headers, strArg(a.signal) ?? 'SIGTERM');
    if (matched.size === 0) return ok(`headers ${pyRepr(headers)} were not terminated`);
    const inner = [...matched].map(([k, v]) => `${pyRepr(k)}: ${setRepr(v)}`).join(', ');
    return ok(`headers defaultdict(<class 'set'>, {${inner}}) revoked`);
  };
}

/** `maybe_list(v)`. */
export function maybeList(v: PyValue | undefined): PyValue[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? [...(v as PyValue[])] : [v];
}

const key = (v: PyValue): string => (typeof v === 'string' ? `s:${v}` : `r:${pyRepr(v)}`);

/**
 * `Request.revoked` by header (`celery/worker/request.py`): the first stamped header whose
 * value (or one of its values) is among the revoked stamps of that header; null when none.
 */
export function stampRevocation(
  revokedStamps: ReadonlyMap<string, readonly PyValue[]>,
  stampedHeaders: readonly string[],
  stamps: Readonly<Record<string, PyValue>> | null,
): Record<string, PyValue> | null {
  if (!stamps || revokedStamps.size === 0) return null;
  for (const stamp of stampedHeaders) {
    const revoked = revokedStamps.get(stamp);
    const value = stamps[stamp];
    if (revoked === undefined || value === undefined || value === null) continue;
    const want = new Set(revoked.map(key));
    for (const v of maybeList(value)) if (want.has(key(v))) return { [stamp]: v };
  }
  return null;
}

/** The stamps of `headers` a request's stamps match, by header (`terminated_scheme_to_stamps`). */
export function matchStamps(
  headers: Readonly<Record<string, PyValue>>,
  stamps: Readonly<Record<string, PyValue>> | null,
): Map<string, PyValue[]> {
  const out = new Map<string, PyValue[]>();
  if (!stamps) return out;
  for (const [h, expected] of Object.entries(headers)) {
    const actual = stamps[h];
    if (actual === undefined || actual === null) continue;
    const want = new Set(maybeList(expected).map(key));
    const hit = maybeList(actual).filter((v) => want.has(key(v)));
    if (hit.length > 0) out.set(h, hit);
  }
  return out;
}
