import { BrokerError } from '../../errors/errors';
import { clampPriority, PRIORITY_SEP, PRIORITY_STEPS } from '../../protocol/redis-keys';

/**
 * Every Redis key and pub/sub channel kombu's Redis transport uses, under the transport options
 * that change them (`kombu/transport/redis.py`): `global_keyprefix` (`GlobalKeyPrefixMixin`
 * prefixes the key of LPUSH/RPUSH/BRPOP/SADD/SMEMBERS/HSET/HDEL/ZADD/ZREM/ZRANGE/SET/EVALSHA/WATCH
 * and the channel of PUBLISH/PSUBSCRIBE, and strips it from BRPOP replies), `sep`,
 * `priority_steps`, `fanout_prefix`, `fanout_patterns`, `unacked_*_key`. Pure.
 */
export interface KeyspaceOptions {
  db: number;
  globalKeyprefix?: string;
  sep?: string;
  prioritySteps?: readonly number[];
  /** `True` (`/{db}.`), `False` (none) or a literal prefix. */
  fanoutPrefix?: boolean | string;
  fanoutPatterns?: boolean;
  /**
   * kombu < 5.4 on Sentinel never formatted `/{db}.` (`SentinelChannel._get_pool`): its fanout
   * topics are literally `/{db}.<exchange>`. `'legacy'` uses only that, `'both'` is kombu 5.7's
   * `sentinel_fanout_compat` (publish to and subscribe on both).
   */
  sentinelFanout?: 'current' | 'legacy' | 'both';
  unackedKey?: string;
  unackedIndexKey?: string;
  unackedMutexKey?: string;
}

export class RedisKeyspace {
  readonly prefix: string;
  readonly sep: string;
  readonly steps: readonly number[];
  readonly unacked: string;
  readonly unackedIndex: string;
  readonly unackedMutex: string;
  private readonly fanoutPrefixes: string[];
  private readonly fanoutPatterns: boolean;

  constructor(o: KeyspaceOptions) {
    this.prefix = o.globalKeyprefix ?? '';
    this.sep = o.sep ?? PRIORITY_SEP;
    if (this.sep === '') throw new BrokerError("transport option 'sep' must not be empty");
    const steps = [...(o.prioritySteps ?? PRIORITY_STEPS)];
    if (steps.length === 0 || steps.some((s) => !Number.isInteger(s) || s < 0)) {
      throw new BrokerError(`transport option 'priority_steps' is invalid: ${String(steps)}`);
    }
    this.steps = steps;
    this.unacked = this.prefix + (o.unackedKey ?? 'unacked');
    this.unackedIndex = this.prefix + (o.unackedIndexKey ?? 'unacked_index');
    this.unackedMutex = this.prefix + (o.unackedMutexKey ?? 'unacked_mutex');
    const fp = o.fanoutPrefix ?? true;
    const raw = fp === true ? '/{db}.' : fp === false ? '' : fp;
    const current = raw.replace('{db}', String(o.db));
    const mode = o.sentinelFanout ?? 'current';
    this.fanoutPrefixes =
      mode === 'current' ? [current] : mode === 'legacy' ? [raw] : [...new Set([current, raw])];
    this.fanoutPatterns = o.fanoutPatterns ?? true;
  }

  /** `Channel.priority`: `steps[bisect(steps, n) - 1]`, after the 0..9 clamp. */
  step(priority: unknown): number {
    const n = clampPriority(priority);
    let chosen = this.steps[0] ?? 0;
    for (const s of this.steps) if (s <= n) chosen = s;
    return chosen;
  }

  /** `_q_for_pri(queue, priority(pri))`, prefixed: the list a message of `priority` goes to. */
  queueKey(queue: string, priority: unknown): string {
    const step = this.step(priority);
    return this.prefix + (step ? `${queue}${this.sep}${String(step)}` : queue);
  }

  /** A queue's lists in BRPOP order (step 0 first). */
  queueKeys(queue: string): string[] {
    return this.steps.map((s) => this.prefix + (s ? `${queue}${this.sep}${String(s)}` : queue));
  }

  /** `_brpop_start`: for each priority step, every queue (kombu's order). */
  brpopKeys(queues: readonly string[]): string[] {
    return this.steps.flatMap((s) =>
      queues.map((q) => this.prefix + (s ? `${q}${this.sep}${String(s)}` : q)),
    );
  }

  /** `_brpop_read`: strip the prefix (`parse_response`), then `dest.rsplit(sep, 1)[0]`. */
  queueOfKey(key: string): string {
    const k = this.prefix && key.startsWith(this.prefix) ? key.slice(this.prefix.length) : key;
    const i = k.lastIndexOf(this.sep);
    return i < 0 ? k : k.slice(0, i);
  }

  /** `keyprefix_queue % exchange`: `_kombu.binding.<exchange>`. */
  binding(exchange: string): string {
    return `${this.prefix}_kombu.binding.${exchange}`;
  }

  /** kombu 5.7 `keyprefix_binding_permanent % exchange`. */
  bindingPermanent(exchange: string): string {
    return `${this.prefix}_kombu.binding_permanent.${exchange}`;
  }

  /** `sep.join([routing_key, pattern, queue])` (`_queue_bind`). */
  member(routingKey: string, pattern: string, queue: string): string {
    return [routingKey, pattern, queue].join(this.sep);
  }

  /** `get_table`: `tuple(bytes_to_str(val).split(self.sep))`; short members pad with ''. */
  parseMember(member: string): { routingKey: string; pattern: string; queue: string } {
    const [routingKey = '', pattern = '', queue = ''] = member.split(this.sep);
    return { routingKey, pattern, queue };
  }

  /** `_get_publish_topics`, prefixed: every channel a fanout message is PUBLISHed on. */
  fanoutChannels(exchange: string, routingKey: string): string[] {
    const tail = routingKey && this.fanoutPatterns ? `${exchange}/${routingKey}` : exchange;
    return this.fanoutPrefixes.map((p) => `${this.prefix}${p}${tail}`);
  }
}
