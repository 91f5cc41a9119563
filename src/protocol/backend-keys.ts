/**
 * Key names of Celery's key/value result backends (`celery/backends/base.py`,
 * `BaseKeyValueStoreBackend`; `celery/backends/redis.py`, `RedisBackend`).
 */
export const TASK_KEYPREFIX = 'celery-task-meta-';
export const GROUP_KEYPREFIX = 'celery-taskset-meta-';
export const CHORD_KEYPREFIX = 'chord-unlock-';

/**
 * `result_backend_transport_options['global_keyprefix']`: an `_` is appended unless the prefix
 * already ends with one of `:_-.` (`BaseKeyValueStoreBackend._add_global_keyprefix`).
 */
export function normalizeGlobalKeyPrefix(prefix: string | undefined): string {
  if (!prefix) return '';
  return /[:_.-]$/.test(prefix) ? prefix : `${prefix}_`;
}

/**
 * How a line's Celery joins `result_backend_transport_options['global_keyprefix']` to its key
 * prefixes (`BaseKeyValueStoreBackend._add_global_keyprefix`): 5.5+ add `_` unless the prefix ends
 * in one of `:_-.`; 5.3 and 5.4 always add `_` (`f"{global_keyprefix}_{…}"`); 5.2 and older
 * have no such option.
 */
export type BackendKeyprefixStyle = 'separator-aware' | 'underscore' | 'none';

/**
 * The prefix as the line's Celery puts it before `celery-task-meta-` (`''` for none). The result
 * ends in `_` or one of `:.-`, so {@link normalizeGlobalKeyPrefix} leaves it as it is: it can be
 * passed on as the `globalKeyPrefix` of the key functions below.
 */
export function lineGlobalKeyPrefix(
  prefix: string | undefined,
  style: BackendKeyprefixStyle,
): string {
  if (!prefix || style === 'none') return '';
  return style === 'underscore' ? `${prefix}_` : normalizeGlobalKeyPrefix(prefix);
}

/** The three key prefixes after the global prefix is applied. */
export interface BackendKeyPrefixes {
  task: string;
  group: string;
  chord: string;
}

/** Prefixes for a given `global_keyprefix` (possibly none). */
export function backendKeyPrefixes(globalKeyPrefix?: string): BackendKeyPrefixes {
  const g = normalizeGlobalKeyPrefix(globalKeyPrefix);
  return { task: g + TASK_KEYPREFIX, group: g + GROUP_KEYPREFIX, chord: g + CHORD_KEYPREFIX };
}

/** `celery-task-meta-<id>` (also the PUBLISH channel of the result). */
export function taskMetaKey(taskId: string, globalKeyPrefix?: string): string {
  if (!taskId) throw new RangeError('task_id must not be empty');
  return backendKeyPrefixes(globalKeyPrefix).task + taskId;
}

/** `celery-taskset-meta-<gid>`: the saved GroupResult. */
export function groupMetaKey(groupId: string, globalKeyPrefix?: string): string {
  if (!groupId) throw new RangeError('group_id must not be empty');
  return backendKeyPrefixes(globalKeyPrefix).group + groupId;
}

/**
 * Redis chord bookkeeping keys next to the group key: `.j` join (zset/list of results), `.t`
 * extra-task counter, `.s` chord size (Celery ≥5.1); Celery 5.7.0's Lua-based
 * `on_chord_part_return` adds `.d` (dedup set of `tid:index`) and `.c` (completion claim/marker).
 */
export type ChordKeySuffix = 'j' | 't' | 's' | 'd' | 'c';

/** `celery-taskset-meta-<gid>.<suffix>`. */
export function chordKey(
  groupId: string,
  suffix: ChordKeySuffix,
  globalKeyPrefix?: string,
): string {
  return `${groupMetaKey(groupId, globalKeyPrefix)}.${suffix}`;
}

/** `chord-unlock-<gid>`: the counter of incr-capable non-Redis KV backends. */
export function chordUnlockKey(groupId: string, globalKeyPrefix?: string): string {
  return backendKeyPrefixes(globalKeyPrefix).chord + groupId;
}
