import { PRIORITY_SEP, parseBindingMember } from '../../protocol/redis-keys';
import type { ExchangeType } from '../broker';

/**
 * Exchange routing of kombu's virtual transport (`kombu/transport/virtual/exchange.py`). Pure.
 * Exchange types are not stored in Redis; a process that has not declared an exchange treats it
 * as `direct`, as kombu's `Channel.typeof` does.
 */

/** `kombu/utils/text.py`, `escape_regex(p, '.#*')`: non-alphanumerics get a backslash. */
function escapeRegex(p: string): string {
  let out = '';
  for (const c of p) {
    if (/^[\p{L}\p{N}]$/u.test(c) || c === '.' || c === '#' || c === '*') out += c;
    else out += c === '\0' ? '\\000' : `\\${c}`;
  }
  return out;
}

/**
 * The pattern text kombu stores in a topic binding member (`TopicExchange.key_to_pattern`),
 * e.g. `a.*.b-c#.#` → `^a\.[^\.]+\.b\-c#\..*?$`. Stored for Python peers; we never evaluate it.
 */
export function topicPattern(routingKey: string): string {
  const words = escapeRegex(routingKey)
    .split('.')
    .map((w) => (w === '*' ? '[^\\.]+' : w === '#' ? '.*?' : w));
  return `^${words.join('\\.')}$`;
}

/**
 * AMQP topic match as kombu's regex does it: `*` is one word, `#` any run of characters (kombu's
 * `.*?`, which unlike RabbitMQ may also match part of a word boundary-free span).
 */
export function topicMatches(bindingKey: string, routingKey: string): boolean {
  const re = bindingKey
    .split('.')
    .map((w) =>
      w === '*' ? '[^.]+' : w === '#' ? '.*?' : w.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&'),
    )
    .join('\\.');
  return new RegExp(`^${re}$`, 's').test(routingKey);
}

/** Binding member pattern for a declaration of the given exchange type (`prepare_bind`). */
export function bindingPattern(type: ExchangeType, routingKey: string): string {
  return type === 'topic' ? topicPattern(routingKey) : '';
}

/**
 * Queues an exchange routes to (`Channel._lookup` + `*Exchange.lookup`), from the members of
 * `_kombu.binding.<exchange>`. The anonymous exchange routes to the queue named by the key.
 */
export function lookupQueues(
  exchange: string,
  type: ExchangeType,
  members: readonly string[],
  routingKey: string,
  sep: string = PRIORITY_SEP,
): string[] {
  if (exchange === '') return [routingKey];
  const out = new Set<string>();
  for (const m of members) {
    const b = sep === PRIORITY_SEP ? parseBindingMember(m) : parseMemberWith(m, sep);
    if (type === 'fanout') out.add(b.queue);
    else if (
      type === 'topic' ? topicMatches(b.routingKey, routingKey) : b.routingKey === routingKey
    ) {
      out.add(b.queue);
    }
  }
  return [...out];
}

function parseMemberWith(m: string, sep: string): { routingKey: string; queue: string } {
  const [routingKey = '', , queue = ''] = m.split(sep);
  return { routingKey, queue };
}

/** The queue a BRPOP key belongs to: `dest.rsplit(sep, 1)[0]` (`Channel._brpop_read`). */
export function queueOfKey(key: string): string {
  const i = key.lastIndexOf(PRIORITY_SEP);
  return i < 0 ? key : key.slice(0, i);
}
