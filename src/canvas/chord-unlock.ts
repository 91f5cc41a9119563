import type { ResultBackend } from '../backends/backend';
import type { CeleryProfileName } from '../protocol/profiles';
import { getProfile } from '../protocol/profiles';
import type { PyValue } from '../serialization/py-values';
import type { Signature } from './signature';

/** What {@link fallbackChordUnlock} needs of a canvas host (structural: no import of apply.ts). */
export interface ChordUnlockPublisher {
  readonly profile: CeleryProfileName;
  sendTask(
    name: string,
    args: readonly PyValue[],
    kwargs: Readonly<Record<string, PyValue>>,
    options: Readonly<Record<string, PyValue>>,
  ): Promise<void>;
}

/**
 * Chords on result backends without a native join (Celery's `BaseBackend`, e.g. the database
 * backend): `celery/backends/base.py`, `BaseBackend.apply_chord` → `fallback_chord_unlock`
 * publishes `celery.chord_unlock(group_id, body, interval=…, max_retries=…, result=[tuples])`
 * with `countdown=1` before the header; the task (`celery/app/builtins.py`,
 * `add_unlock_chord_task`) polls the header results, retrying every `interval` (default
 * `result_chord_retry_interval`, 1 s) until all are ready, then sends the body with the ordered
 * results or fails it with `ChordError('Dependency <id> raised <repr>')`.
 */

/** Whether `backend` joins chords through `celery.chord_unlock` (no native join, has groups). */
export function usesChordUnlock(b: ResultBackend | null | undefined): boolean {
  return (
    b !== null &&
    b !== undefined &&
    b.chordJoin === undefined &&
    !b.capabilities.supportsNativeJoin &&
    b.capabilities.supportsGroups
  );
}

/** `fallback_chord_unlock(header_result, body, countdown=1, interval=None, max_retries=None)`. */
export async function fallbackChordUnlock(
  host: ChordUnlockPublisher,
  groupId: string,
  body: Signature,
  headerTuples: readonly PyValue[],
  o: { interval?: number | null; maxRetries?: number | null; countdown?: number } = {},
): Promise<void> {
  const kwargs: Record<string, PyValue> = {
    interval: o.interval ?? null,
    max_retries: o.maxRetries ?? null,
    result: [...headerTuples],
  };
  const bo = body.options;
  const options: Record<string, PyValue> = { countdown: o.countdown ?? 1 };
  if (typeof bo.queue === 'string') options.queue = bo.queue;
  options.priority = typeof bo.priority === 'number' ? bo.priority : 0;
  const stamped = Array.isArray(bo.stamped_headers) ? (bo.stamped_headers as PyValue[]) : [];
  for (const k of ['exchange', 'exchange_type', 'routing_key', 'headers']) {
    const v = bo[k];
    if (!stamped.includes(k) && v !== undefined && v !== null) options[k] = v as PyValue;
  }
  // 5.7.0 passes the queue's exchange type on for the retries (`_chord_unlock_exchange_type`);
  // the default queue's exchange is `direct`.
  if (getProfile(host.profile).chordUnlockExchangeTypeKwarg === true) {
    const et = options.exchange_type;
    kwargs._chord_unlock_exchange_type = typeof et === 'string' ? et : 'direct';
    delete options.exchange_type;
  } else {
    delete options.exchange_type;
  }
  await host.sendTask('celery.chord_unlock', [groupId, body.toDict()], kwargs, options);
}
