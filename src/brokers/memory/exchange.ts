import type { PyValue } from '../../serialization/py-values';
import type { ExchangeType } from '../broker';

/** One binding of an exchange's table: `(routing_key, pattern, queue)` as kombu keeps them. */
export interface Binding {
  readonly routingKey: string;
  readonly queue: string;
  readonly arguments: Readonly<Record<string, PyValue>>;
}

/** A declared exchange (`kombu/transport/virtual/base.py`, `BrokerState.exchanges`). */
export interface MemoryExchange {
  readonly name: string;
  readonly type: ExchangeType;
  readonly bindings: Binding[];
}

const topicCache = new Map<string, RegExp>();

/**
 * `kombu/transport/virtual/exchange.py`, `TopicExchange.key_to_pattern`: `*` is one word, `#` any
 * run of characters (dots included), anchored at both ends. Kombu's translation, not AMQP's: `a.#`
 * does not match `a`.
 */
export function topicPattern(bindingKey: string): RegExp {
  let re = topicCache.get(bindingKey);
  if (!re) {
    const body = bindingKey
      .split('.')
      .map((w) => {
        if (w === '*') return '[^.]+';
        if (w === '#') return '.*?';
        return w.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
      })
      .join('\\.');
    re = new RegExp(`^${body}$`);
    topicCache.set(bindingKey, re);
  }
  return re;
}

/** `HeadersExchange`-style match (`x-match: all|any`), for completeness of the type set. */
function headersMatch(b: Binding, headers: Readonly<Record<string, PyValue>>): boolean {
  const mode = b.arguments['x-match'] === 'any' ? 'any' : 'all';
  const keys = Object.keys(b.arguments).filter((k) => !k.startsWith('x-'));
  if (keys.length === 0) return true;
  const hit = (k: string): boolean => k in headers && headers[k] === b.arguments[k];
  return mode === 'any' ? keys.some(hit) : keys.every(hit);
}

/**
 * The queues a message published to `ex` with `routingKey` lands in (`ExchangeType.lookup`):
 * direct → bindings with the same key, topic → pattern match, fanout → every bound queue.
 * A queue bound twice receives the message once, as kombu's `set()` of queues.
 */
export function route(
  ex: MemoryExchange,
  routingKey: string,
  headers: Readonly<Record<string, PyValue>>,
): string[] {
  const out = new Set<string>();
  for (const b of ex.bindings) {
    switch (ex.type) {
      case 'direct':
        if (b.routingKey === routingKey) out.add(b.queue);
        break;
      case 'topic':
        if (topicPattern(b.routingKey).test(routingKey)) out.add(b.queue);
        break;
      case 'fanout':
        out.add(b.queue);
        break;
      case 'headers':
        if (headersMatch(b, headers)) out.add(b.queue);
        break;
    }
  }
  return [...out];
}
