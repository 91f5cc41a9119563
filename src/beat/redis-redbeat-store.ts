import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import {
  decodeDefinition,
  decodeMeta,
  encodeDefinition,
  encodeMeta,
  toTimestamp,
  type RedBeatDefinition,
} from './redbeat-json';
import type { BeatCandidate, BeatEntry, BeatLock, BeatStore } from './store';
import { closeClient } from '../brokers/redis/close-client';

/** celery-redbeat's settings (`redbeat/schedulers.py`, `RedBeatConfig`), camelCased. */
export interface RedBeatOptions {
  /** `redbeat_key_prefix` (default `redbeat:`). */
  keyPrefix?: string;
  /** `redbeat_lock_key` (default `<prefix>:lock`); `null` disables the lock, as in RedBeat. */
  lockKey?: string | null;
  /** The schedule's time zone (the app's `timezone`). */
  timeZone?: string;
}

// redis-py's Lock release script, and RedBeat's LUA_EXTEND_TO_SCRIPT (extend *to* a timeout).
const RELEASE = `local token = redis.call('get', KEYS[1])
if not token or token ~= ARGV[1] then return 0 end
redis.call('del', KEYS[1])
return 1`;
const EXTEND_TO = `local token = redis.call('get', KEYS[1])
if not token or token ~= ARGV[1] then
    return 0
end
local expiration = redis.call('pttl', KEYS[1])
if not expiration then
    expiration = 0
end
if expiration < 0 then
    return 0
end
redis.call('pexpire', KEYS[1], ARGV[2])
return 1`;

/**
 * The RedBeat store: `<prefix><name>` hashes (`definition`, `meta`), the `<prefix>:schedule`
 * zset scored by due time, the `<prefix>:statics` set of entries that came from the static
 * `beat_schedule`. Python RedBeat reads and writes exactly these, so either can run the beat.
 */
export class RedBeatStore implements BeatStore {
  readonly prefix: string;
  readonly scheduleKey: string;
  readonly staticsKey: string;
  readonly lockKey: string | null;
  private readonly timeZone: string;

  constructor(
    private readonly redis: Redis,
    opts: RedBeatOptions = {},
  ) {
    this.prefix = opts.keyPrefix ?? 'redbeat:';
    this.scheduleKey = `${this.prefix}:schedule`;
    this.staticsKey = `${this.prefix}:statics`;
    const lock = opts.lockKey === undefined ? `${this.prefix}:lock` : opts.lockKey;
    // RedBeat prefixes a lock key that lacks the prefix.
    this.lockKey = lock === null ? null : lock.startsWith(this.prefix) ? lock : this.prefix + lock;
    this.timeZone = opts.timeZone ?? 'UTC';
  }

  /** A store on its own connection to `redbeat_redis_url`; `close()` ends it. */
  static fromUrl(url: string, opts: RedBeatOptions = {}): RedBeatStore {
    return new RedBeatStore(
      new Redis(url, { lazyConnect: false, maxRetriesPerRequest: null }),
      opts,
    );
  }

  /** Close the connection (for stores made with {@link fromUrl}). */
  async close(): Promise<void> {
    await closeClient(this.redis);
  }

  key(name: string): string {
    return this.prefix + name;
  }

  /** `RedBeatScheduler.setup_schedule`: drop removed statics, store the current ones. */
  async setup(entries: readonly BeatEntry[], now: Date): Promise<void> {
    const previous = await this.redis.smembers(this.staticsKey);
    const names = new Set(entries.map((e) => e.name));
    for (const name of previous) {
      if (names.has(name)) continue;
      await this.redis
        .multi()
        .zrem(this.scheduleKey, this.key(name))
        .del(this.key(name))
        .srem(this.staticsKey, name)
        .exec();
    }
    for (const e of entries) {
      // update_from_dict: an entry already stored keeps its last_run_at; a new one is built as
      // a ScheduleEntry, whose last_run_at defaults to now, so it first runs one period later.
      const stored = await this.redis.hget(this.key(e.name), 'meta');
      const lastRunAt = stored === null ? now : decodeMeta(stored).lastRunAt;
      const due = this.dueAt(e, lastRunAt, now);
      await this.redis
        .multi()
        .hset(this.key(e.name), 'definition', encodeDefinition(definitionOf(e)))
        .hsetnx(this.key(e.name), 'meta', encodeMeta({ lastRunAt }))
        .zadd(this.scheduleKey, due === null ? -1 : toTimestamp(due), this.key(e.name))
        .exec();
    }
    if (names.size > 0) await this.redis.sadd(this.staticsKey, ...names);
  }

  /** `RedBeatScheduler.schedule`: entries due by now, plus the next one within max_interval. */
  async candidates(now: Date, maxIntervalS: number): Promise<BeatCandidate[]> {
    const nowTs = toTimestamp(now);
    const res = await this.redis
      .multi()
      .zrangebyscore(this.scheduleKey, 0, nowTs)
      .zrangebyscore(this.scheduleKey, `(${String(nowTs)}`, nowTs + maxIntervalS, 'LIMIT', 0, 1)
      .exec();
    const keys = [
      ...((res?.[0]?.[1] as string[] | undefined) ?? []),
      ...((res?.[1]?.[1] as string[] | undefined) ?? []),
    ];
    const out: BeatCandidate[] = [];
    for (const key of keys) {
      const [definition, meta] = await this.redis.hmget(key, 'definition', 'meta');
      if (!definition) {
        // RedBeat: 'beat: Failed to load %s, removing'.
        await this.redis.zrem(this.scheduleKey, key);
        continue;
      }
      const d = decodeDefinition(definition, this.timeZone);
      const m = decodeMeta(meta ?? null);
      out.push({
        entry: {
          name: d.name,
          task: d.task,
          schedule: d.schedule,
          args: d.args ?? [],
          kwargs: d.kwargs ?? {},
          options: d.options ?? {},
          enabled: d.enabled,
        },
        lastRunAt: m.lastRunAt,
        totalRunCount: m.totalRunCount ?? 0,
      });
    }
    return out;
  }

  /** `RedBeatSchedulerEntry._next_instance`: new meta and the next due score. */
  async recordRun(entry: BeatEntry, at: Date, totalRunCount: number): Promise<void> {
    const due = this.dueAt(entry, at, at);
    await this.redis
      .multi()
      .hset(this.key(entry.name), 'meta', encodeMeta({ lastRunAt: at, totalRunCount }))
      .zadd(this.scheduleKey, due === null ? -1 : toTimestamp(due), this.key(entry.name))
      .exec();
  }

  /** `RedBeatSchedulerEntry.due_at`: never run → now; overdue → now; else the next run. */
  private dueAt(e: BeatEntry, lastRunAt: Date | null, now: Date): Date | null {
    if (lastRunAt === null) return now;
    const next = e.schedule.nextRunAfter(lastRunAt);
    if (next === null) return null;
    return next.getTime() < now.getTime() ? now : next;
  }

  /** RedBeat's distributed lock (`acquire_distributed_beat_lock`), or `null` when disabled. */
  lock(timeoutS: number): BeatLock | null {
    const key = this.lockKey;
    if (key === null) return null;
    // redis-py's Lock token: a uuid1 hex; any unique string works for the scripts.
    const token = randomBytes(16).toString('hex');
    const redis = this.redis;
    const ms = Math.max(1, Math.round(timeoutS * 1000));
    return {
      key,
      tryAcquire: async () => (await redis.set(key, token, 'PX', ms, 'NX')) === 'OK',
      extend: async () => Number(await redis.eval(EXTEND_TO, 1, key, token, String(ms))) === 1,
      release: async () => {
        await redis.eval(RELEASE, 1, key, token);
      },
    };
  }
}

function definitionOf(e: BeatEntry): RedBeatDefinition {
  return {
    name: e.name,
    task: e.task,
    args: e.args.length > 0 ? e.args : null,
    kwargs: e.kwargs,
    options: e.options,
    schedule: e.schedule,
    enabled: e.enabled ?? true,
  };
}
