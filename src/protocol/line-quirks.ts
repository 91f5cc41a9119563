import { isPyDict, type PyValue } from '../serialization/py-values';
import type { CeleryProfileName } from './profiles';

/**
 * Behaviour (not message layout) that differs between Celery release lines, verified in each
 * line's source (the pinned venvs `python-peers/.venv-<line>`) and golden fixtures. Kept apart
 * from {@link CeleryProfile} so the profile table stays the wire-layout record; pure data and
 * pure functions only.
 */
export interface LineQuirks {
  /**
   * Group members carry `group_index` (`group._prepared` passes the index to `freeze` from 5.3.0;
   * fixtures `canvas/v2-group-2` of 5.3.6 vs 5.2.7).
   */
  groupIndex: boolean;
  /** `_chord.run` freezes the body with the header's `group_id` (`body.freeze(…, group_id=…)`, 5.6.0+). */
  chordBodyGroupId: boolean;
  /**
   * The worker lets the `ignore_result` header override the task's setting
   * (`celery/app/trace.py`, `get_actual_ignore_result`, 5.6.0+). Before, `build_tracer` reads only
   * `task.ignore_result`, so the `ignore_result: False` that 5.1–5.5 producers always send is inert.
   */
  ignoreResultHeaderWins: boolean;
  /**
   * Default of `result_backend_transport_options['result_chord_ordered']`: Celery 4.4's
   * `RedisBackend._chord_zset` defaults to False (RPUSH/LLEN on `.j`), 5.0+ to True (ZADD/ZCOUNT).
   */
  chordOrderedDefault: boolean;
  /**
   * The Redis chord join takes the header size from the body signature's `chord_size`
   * (`callback['chord_size']`, 4.4/5.0) instead of the `.s` key `set_chord_size` writes (5.1+).
   */
  chordSizeInBody: boolean;
  /**
   * `_chord.from_dict` nests `kwargs` one level per round trip (`_unpack_args` returns the whole
   * `{'kwargs': …}` and `__init__` wraps it again; fixed in 5.2.0 by `{**kwargs, header, body}`), and
   * `_chord.apply_async` never passes the chord kwargs to `run`: header tasks get none (≤5.1).
   */
  nestedChordKwargs: boolean;
  /**
   * `group._prepared` is a generator consumed by `_apply_tasks`, so each member is frozen right
   * before it is published (4.4/5.0); from 5.1 every member is frozen first.
   */
  lazyGroupPrepare: boolean;
  /** The line's kombu (≥5.3) writes json with `__type__` tags (`kombu/utils/json.py`). */
  taggedJson: boolean;
  /**
   * Copies being dispatched drop the `chord` option their chord headers' tasks got from freezing
   * (`_strip_chord_header_links`, called by `_chain.prepare_steps` with `clone=True` and by
   * `_chord.run` on the body; 5.7.0). Through 5.6 every header task (and the header group) of a
   * chord travelling in a `chain` field keeps `chord` (the body) next to its `group_index`
   * (fixtures `canvas/v2-chain-with-group` of 5.6 vs 5.7).
   */
  stripChordHeaderLinks: boolean;
  /**
   * `_chain.prepare_steps` (with `clone=True`) splits a chord whose body is a task-led chain into
   * the chord and the chain's tail (`_chord._unroll_body`, `_is_chain_led_by_task`; 5.7.0, absent
   * from 5.6's `celery/canvas.py`).
   */
  unrollChordBody: boolean;
}

const NEW: LineQuirks = {
  groupIndex: true,
  chordBodyGroupId: true,
  ignoreResultHeaderWins: true,
  chordOrderedDefault: true,
  chordSizeInBody: false,
  nestedChordKwargs: false,
  lazyGroupPrepare: false,
  taggedJson: true,
  stripChordHeaderLinks: true,
  unrollChordBody: true,
};
const PRE_57: LineQuirks = { ...NEW, stripChordHeaderLinks: false, unrollChordBody: false };
const PRE_56: LineQuirks = { ...PRE_57, chordBodyGroupId: false, ignoreResultHeaderWins: false };
const PRE_53: LineQuirks = { ...PRE_56, groupIndex: false, taggedJson: false };
const PRE_52: LineQuirks = { ...PRE_53, nestedChordKwargs: true };
const PRE_51: LineQuirks = { ...PRE_52, chordSizeInBody: true, lazyGroupPrepare: true };

/** Every line's quirks, by profile name. */
export const LINE_QUIRKS: Readonly<Record<CeleryProfileName, LineQuirks>> = {
  'celery-5.7': NEW,
  'celery-5.6': PRE_57,
  'celery-5.5': PRE_56,
  'celery-5.4': PRE_56,
  'celery-5.3': PRE_56,
  'celery-5.2': PRE_53,
  'celery-5.1': PRE_52,
  'celery-5.0': PRE_51,
  'celery-4.4': { ...PRE_51, chordOrderedDefault: false },
};

/** The quirks of a profile (default: the newest line). */
export function quirksOf(
  profile: CeleryProfileName | { name: CeleryProfileName } | undefined,
): LineQuirks {
  if (profile === undefined) return NEW;
  return LINE_QUIRKS[typeof profile === 'string' ? profile : profile.name];
}

/**
 * Whether the worker stores the result: the `ignore_result` header (when a boolean) wins on 5.6+;
 * on older lines only the task's own setting counts (`build_tracer`: `task.ignore_result`).
 */
export function effectiveIgnoreResult(
  profile: CeleryProfileName,
  header: PyValue | undefined,
  taskSetting: boolean,
): boolean {
  if (quirksOf(profile).ignoreResultHeaderWins && typeof header === 'boolean') return header;
  return taskSetting;
}

/**
 * The kwargs `_chord.run` gives header tasks: the chord's own `kwargs.kwargs` merged with the
 * caller's (5.2+), none at all on ≤5.1 (see {@link LineQuirks.nestedChordKwargs}).
 */
export function chordHeaderKwargs(
  profile: CeleryProfileName,
  chordKwargs: PyValue | undefined,
  callKwargs: Readonly<Record<string, PyValue>>,
): Record<string, PyValue> {
  if (quirksOf(profile).nestedChordKwargs) return {};
  const own = isPyDict(chordKwargs) ? chordKwargs : {};
  return { ...own, ...callKwargs };
}

/**
 * `kwargs.kwargs` of a chord dict as a ≤5.1 producer writes it inside a chain: one extra
 * `{'kwargs': …}` level (the round trip through `_chord.from_dict` in `prepare_steps`).
 */
export function chainedChordKwargs(
  profile: CeleryProfileName,
  chordKwargs: Readonly<Record<string, PyValue>>,
): Record<string, PyValue> {
  return quirksOf(profile).nestedChordKwargs ? { kwargs: { ...chordKwargs } } : { ...chordKwargs };
}

/**
 * The header size for the Redis join: the `.s` key (5.1+), else on 4.4/5.0 the body signature's
 * `chord_size` (`callback['chord_size']`); null when unknown (the join then waits).
 */
export function chordJoinSize(
  profile: CeleryProfileName,
  sizeKey: string | null | undefined,
  body: PyValue | undefined,
): number | null {
  if (quirksOf(profile).chordSizeInBody) {
    const cs = isPyDict(body) ? body.chord_size : undefined;
    if (typeof cs === 'number') return cs;
    if (typeof cs === 'bigint') return Number(cs);
    return null;
  }
  if (sizeKey === null || sizeKey === undefined || sizeKey === '') return null;
  const n = Number(sizeKey);
  return Number.isFinite(n) ? n : null;
}
