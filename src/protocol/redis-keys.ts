/**
 * Key and member names used by kombu's Redis transport. They have not changed between kombu 4.0
 * and 5.7 (`kombu/transport/redis.py`, `Channel.sep`, `Channel.keyprefix_queue`, `PRIORITY_STEPS`).
 */

/** Separator between a queue name and its priority step, and between binding fields. */
export const PRIORITY_SEP = '\x06\x16';

/** kombu's default `priority_steps`; a message lands in the list of the largest step ≤ its priority. */
export const PRIORITY_STEPS: readonly number[] = [0, 3, 6, 9];

/** Priority bounds of the virtual transport (`kombu/transport/virtual/base.py`, `Channel.min_priority`/`max_priority`). */
export const MIN_PRIORITY = 0;
export const MAX_PRIORITY = 9;

/**
 * Clamp a message priority the way `Channel._get_message_priority` does: `int()` of the value
 * limited to 0..9; anything unparsable (or absent) becomes the default priority 0.
 */
export function clampPriority(priority: unknown): number {
  if (typeof priority === 'boolean') return priority ? 1 : 0; // Python: int(True) == 1
  let n: number;
  if (typeof priority === 'number') n = priority;
  else if (typeof priority === 'bigint')
    n = priority > 9n ? 9 : priority < 0n ? 0 : Number(priority);
  else if (typeof priority === 'string' && /^\s*[+-]?\d+\s*$/.test(priority)) n = Number(priority);
  else return MIN_PRIORITY;
  if (!Number.isFinite(n)) return MIN_PRIORITY;
  return Math.max(Math.min(Math.trunc(n), MAX_PRIORITY), MIN_PRIORITY);
}

/** The step a (clamped) priority maps to: `steps[bisect(steps, n) - 1]` (`Channel.priority`). */
export function priorityStep(priority: number, steps: readonly number[] = PRIORITY_STEPS): number {
  let chosen = steps[0] ?? 0;
  for (const s of steps) if (s <= priority) chosen = s;
  return chosen;
}

/**
 * The Redis list holding messages of `queue` at `priority` (`Channel._q_for_pri`): the bare queue
 * name for step 0, else `<queue>\x06\x16<step>`.
 */
export function priorityQueueKey(
  queue: string,
  priority: number | undefined,
  steps: readonly number[] = PRIORITY_STEPS,
): string {
  const step = priorityStep(clampPriority(priority), steps);
  return step ? `${queue}${PRIORITY_SEP}${String(step)}` : queue;
}

/** All priority lists of a queue in BRPOP order (step 0 first, so lower numbers are served first). */
export function priorityQueueKeys(
  queue: string,
  steps: readonly number[] = PRIORITY_STEPS,
): string[] {
  return steps.map((s) => (s ? `${queue}${PRIORITY_SEP}${String(s)}` : queue));
}

/** The binding set of an exchange: `_kombu.binding.<exchange>` (`Channel.keyprefix_queue`). */
export function bindingKey(exchange: string): string {
  return `_kombu.binding.${exchange}`;
}

/**
 * kombu 5.7.0 also SADDs every non-expiring binding member to `_kombu.binding_permanent.<exchange>`
 * (`Channel.keyprefix_binding_permanent`, `_queue_bind`), so its binding sweep keeps the table;
 * a 5.7 peer expects both sets to be written together.
 */
export function permanentBindingKey(exchange: string): string {
  return `_kombu.binding_permanent.${exchange}`;
}

/** One binding set member: `routing_key \x06\x16 pattern \x06\x16 queue` (`Channel._queue_bind`). */
export function bindingMember(routingKey: string, pattern: string, queue: string): string {
  return [routingKey, pattern, queue].join(PRIORITY_SEP);
}

/** A parsed binding set member (`Channel.get_table`). */
export interface Binding {
  routingKey: string;
  pattern: string;
  queue: string;
}

/** Split a binding member back into its three fields; a member with fewer fields pads with ''. */
export function parseBindingMember(member: string): Binding {
  const [routingKey = '', pattern = '', queue = ''] = member.split(PRIORITY_SEP);
  return { routingKey, pattern, queue };
}

/**
 * Prefix a key with kombu's transport option `global_keyprefix` (kombu ≥5.2,
 * `kombu/transport/redis.py`, `GlobalKeyPrefixMixin`): plain concatenation, no separator added.
 */
export function withGlobalKeyPrefix(key: string, prefix: string | undefined): string {
  return prefix ? `${prefix}${key}` : key;
}

/**
 * Pub/sub channel kombu PUBLISHes fanout messages on (`Channel._get_publish_topic`): `/{db}.` +
 * exchange, plus `/` + routing key when `fanout_patterns` is on and the key is non-empty.
 */
export function fanoutChannel(
  exchange: string,
  routingKey: string,
  opts: { db?: number; fanoutPrefix?: boolean | string; fanoutPatterns?: boolean } = {},
): string {
  const { db = 0, fanoutPrefix = true, fanoutPatterns = true } = opts;
  const prefix =
    fanoutPrefix === true
      ? `/${String(db)}.`
      : typeof fanoutPrefix === 'string'
        ? fanoutPrefix
        : '';
  if (fanoutPatterns && routingKey) return `${prefix}${exchange}/${routingKey}`;
  return `${prefix}${exchange}`;
}
