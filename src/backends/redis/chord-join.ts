import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { BackendError } from '../../errors/errors';
import { chordKey, groupMetaKey, taskMetaKey } from '../../protocol/backend-keys';
import { exceptionFromDict } from '../../protocol/exception';
import { chordJoinSize, quirksOf } from '../../protocol/line-quirks';
import { getProfile, type CeleryProfileName } from '../../protocol/profiles';
import { pyRepr } from '../../protocol/repr';
import { EXCEPTION_STATES, PROPAGATE_STATES } from '../../protocol/states';
import { isPyDict, type PyValue } from '../../serialization/py-values';
import type { ChordJoin, ChordJoinHooks, ChordPartRequest } from '../backend';
import { decodeDocument, encodeDocument } from '../codec';
import { CHORD_CLAIM_EXTEND_LUA, CHORD_CLEANUP_LUA, CHORD_PART_RETURN_LUA } from './chord-scripts';

/** Settings of {@link RedisChordJoin}. */
export interface RedisChordJoinOptions {
  client: Redis;
  profile: CeleryProfileName;
  serializer: string;
  accept: readonly string[];
  /** `result_expires` (seconds, 0 = none). */
  expires: number;
  /** `result_chord_expires` (default: `expires`). */
  chordExpires?: number;
  /** `result_chord_join_timeout` (default 3.0). */
  joinTimeout?: number;
  globalKeyPrefix?: string;
  /** `result_backend_transport_options['result_chord_ordered']` (default true: ZSET). */
  ordered?: boolean;
  /** Claim token factory (`uuid4().hex`). */
  token?: () => string;
}

/** Raised by the join while unpacking a failed header result (`ChordError`). */
class DependencyFailed extends Error {
  constructor(
    message: string,
    /** The failed part's stored exception (`_create_chord_error_with_cause`). */
    readonly failure: PyValue,
  ) {
    super(message);
  }
}

/** A header member failed while joining a restored header (`join_native(propagate=True)`). */
class JoinFailed extends Error {}

/** `repr(exc)` of a rebuilt exception: `ValueError('boom')` (`BaseException.__repr__`). */
export function exceptionRepr(doc: PyValue): string {
  const e = exceptionFromDict(doc);
  const name = e.excType.split('.').pop() ?? e.excType;
  return `${name}(${e.args.map((a) => pyRepr(a)).join(', ')})`;
}

/**
 * Celery's Redis chord join (`celery/backends/redis.py`, `RedisBackend.on_chord_part_return` and
 * `set_chord_size`): on `celery-5.7` the Lua script with the `.d` dedupe set and `.c` claim, on
 * older lines the MULTI pipeline `ZADD/ZCOUNT/GET .t/GET .s/EXPIRE…`.
 */
export class RedisChordJoin implements ChordJoin {
  private readonly legacy: boolean;
  private readonly chordExpires: number;
  private readonly ordered: boolean;
  /** 4.4/5.0: no `.s` key; the size is the body signature's `chord_size`. */
  private readonly sizeInBody: boolean;

  constructor(private readonly o: RedisChordJoinOptions) {
    this.legacy = !getProfile(o.profile).redisChordLua;
    this.chordExpires = o.chordExpires ?? o.expires;
    // 4.4 joins in a list by default (`_chord_zset`: `result_chord_ordered` False); 5.0+ a ZSET.
    this.ordered = o.ordered ?? quirksOf(o.profile).chordOrderedDefault;
    this.sizeInBody = quirksOf(o.profile).chordSizeInBody;
  }

  private key(gid: string, suffix?: 'j' | 't' | 's' | 'd' | 'c'): string {
    return suffix
      ? chordKey(gid, suffix, this.o.globalKeyPrefix)
      : groupMetaKey(gid, this.o.globalKeyPrefix);
  }

  private encode(v: PyValue): Buffer {
    return Buffer.from(encodeDocument(v, this.o.serializer, this.o.profile));
  }

  /**
   * 5.7: `DEL .c` then `SET .s <n> EX chord_expires` (no publish); before: `BaseKeyValueStore.set`,
   * i.e. SETEX + PUBLISH of the size like any result document.
   */
  async setChordSize(groupId: string, size: number): Promise<void> {
    // 4.4/5.0 have no `set_chord_size`: the size travels in the body signature.
    if (this.sizeInBody) return;
    const skey = this.key(groupId, 's');
    const c = this.o.client;
    if (!this.legacy) {
      await c.del(this.key(groupId, 'c'));
      if (this.chordExpires) await c.set(skey, String(size), 'EX', this.chordExpires);
      else await c.set(skey, String(size));
      return;
    }
    const m = c.multi();
    if (this.o.expires) m.setex(skey, this.o.expires, String(size));
    else m.set(skey, String(size));
    m.publish(skey, String(size));
    const res = await m.exec();
    if (res === null || res.some(([e]) => e !== null))
      throw new BackendError(`cannot set chord size of ${groupId}`);
  }

  /** `RedisBackend.add_to_chord`: `INCR .t`, read back as `totaldiff` by the part return. */
  async addToChord(groupId: string): Promise<void> {
    await this.o.client.incr(this.key(groupId, 't'));
  }

  /** EVALSHA, loading the script on NOSCRIPT (redis-py `Script.__call__`). */
  private async script(lua: string, keys: string[], args: (string | Buffer)[]): Promise<unknown> {
    const c = this.o.client;
    const sha = createHash('sha1').update(lua).digest('hex');
    try {
      return await c.evalsha(sha, keys.length, ...keys, ...args);
    } catch (e) {
      if (!(e instanceof Error) || !e.message.startsWith('NOSCRIPT')) throw e;
      await c.script('LOAD', lua);
      return c.evalsha(sha, keys.length, ...keys, ...args);
    }
  }

  /** `_unpack_chord_result`: the value, or a `ChordError` for failed dependencies. */
  private unpack(raw: Buffer): PyValue {
    const tup = decodeDocument(raw, this.o.serializer, this.o.accept) as PyValue[];
    const [, tid, state, retval] = tup;
    if (typeof state === 'string' && PROPAGATE_STATES.has(state)) {
      const r = EXCEPTION_STATES.has(state)
        ? exceptionRepr(retval ?? null)
        : pyRepr(retval ?? null);
      throw new DependencyFailed(
        `Dependency ${typeof tid === 'string' ? tid : pyRepr(tid ?? null)} raised ${r}`,
        retval ?? null,
      );
    }
    return retval ?? null;
  }

  async onChordPartReturn(
    req: ChordPartRequest,
    state: string,
    result: PyValue,
    hooks: ChordJoinHooks,
  ): Promise<void> {
    const { taskId: tid, groupId: gid } = req;
    if (!gid || !tid) return;
    const score = req.groupIndex === null ? '+inf' : String(req.groupIndex);
    const encoded = this.encode([1, tid, state, result]);
    const jkey = this.key(gid, 'j');
    const tkey = this.key(gid, 't');
    const skey = this.key(gid, 's');
    if (this.legacy) {
      await this.legacyPart(req, jkey, tkey, skey, encoded, score, hooks);
      return;
    }
    const dkey = this.key(gid, 'd');
    const ckey = this.key(gid, 'c');
    const joinTimeout = this.o.joinTimeout ?? 3.0;
    const claimExpires = Math.max(5, Math.trunc(joinTimeout * 2));
    const token = (this.o.token ?? (() => randomUUID().replace(/-/g, '')))();
    const doneExpires = Math.trunc(Math.max(claimExpires * 2, 300));
    const groupExpires =
      !this.chordExpires || !this.o.expires ? 0 : Math.max(this.chordExpires, this.o.expires);
    const reply = (await this.script(
      CHORD_PART_RETURN_LUA,
      [jkey, tkey, skey, dkey, this.key(gid), ckey],
      [
        tid,
        encoded,
        this.ordered ? '1' : '0',
        score,
        String(this.chordExpires || 0),
        String(groupExpires),
        String(claimExpires),
        token,
      ],
    )) as [number, string | null, string | null, number];
    const [readycount, totaldiff, size, claimed] = reply;
    if (readycount === -1 || !size) return;
    const total = Number(size) + Number(totaldiff ?? 0);
    if (readycount !== total || !claimed) return;
    let results: PyValue[];
    try {
      // A header with group members was saved by `apply_chord`: join it to keep its shape.
      const header = await this.restoreHeader(gid);
      results = header ? await this.joinHeader(header) : await this.readResults(jkey, total);
    } catch (e) {
      await this.o.client.del(skey);
      if (e instanceof DependencyFailed) await hooks.failBody(req.chord, e.message, e.failure);
      else if (e instanceof JoinFailed) await hooks.failBody(req.chord, `Join error: ${e.message}`);
      else await hooks.failBody(req.chord, `Join error: ${String(e)}`);
      return;
    }
    // `_chord_publish_claim_expires` with Celery's default publish retry policy (3 retries,
    // 4 s connection timeout): ceil(4 * 4 + 0.4 + 4) = 21 s.
    const extended = await this.script(CHORD_CLAIM_EXTEND_LUA, [ckey, skey], [token, '21']);
    if (!extended) return;
    try {
      await hooks.publishBody(req.chord, results);
    } catch (e) {
      await hooks.failBody(
        req.chord,
        `Callback error: ${e instanceof Error ? e.message : String(e)}`,
      );
    } finally {
      await this.script(
        CHORD_CLEANUP_LUA,
        [ckey, jkey, tkey, skey, dkey],
        [token, String(doneExpires)],
      );
    }
  }

  /**
   * `GroupResult.restore(gid)`: the header tuple `RedisBackend.apply_chord` saved under
   * `celery-taskset-meta-<gid>` when a header member is itself a group (`{'result': tuple}`).
   */
  private async restoreHeader(gid: string): Promise<PyValue[] | null> {
    const raw = await this.o.client.getBuffer(this.key(gid));
    if (raw === null) return null;
    const doc = decodeDocument(raw, this.o.serializer, this.o.accept);
    const tuple = isPyDict(doc) ? doc.result : null;
    if (!Array.isArray(tuple)) return null;
    const children = (tuple as readonly PyValue[])[1];
    return Array.isArray(children) ? (children as PyValue[]) : null;
  }

  /**
   * `header_result.join_native(propagate=True)`: each member's result in header order, a nested
   * group's as the list of its members'; a failed member raises its exception (→ `Join error`).
   */
  private async joinHeader(children: readonly PyValue[]): Promise<PyValue[]> {
    const out: PyValue[] = [];
    for (const child of children) {
      const [head, members] = Array.isArray(child) ? (child as PyValue[]) : [];
      const id = Array.isArray(head) ? (head as PyValue[])[0] : null;
      if (Array.isArray(members)) out.push(await this.joinHeader(members as PyValue[]));
      else if (typeof id === 'string') out.push(await this.memberResult(id));
      else throw new BackendError('malformed saved chord header');
    }
    return out;
  }

  private async memberResult(id: string): Promise<PyValue> {
    const raw = await this.o.client.getBuffer(taskMetaKey(id, this.o.globalKeyPrefix));
    const meta = raw === null ? null : decodeDocument(raw, this.o.serializer, this.o.accept);
    if (!isPyDict(meta) || meta.status !== 'SUCCESS') {
      const status = isPyDict(meta) ? meta.status : 'PENDING';
      if (isPyDict(meta) && typeof status === 'string' && EXCEPTION_STATES.has(status))
        throw new JoinFailed(exceptionRepr(meta.result ?? null));
      throw new JoinFailed(`member ${id} is ${pyRepr(status ?? null)}`);
    }
    return meta.result ?? null;
  }

  private async readResults(jkey: string, total: number): Promise<PyValue[]> {
    const c = this.o.client;
    const raw = this.ordered
      ? await c.zrangeBuffer(jkey, '0', '-1')
      : await c.lrangeBuffer(jkey, 0, total);
    return raw.map((r) => this.unpack(r));
  }

  /**
   * Celery 4.4–5.6: one MULTI pipeline, then the completer (readycount == size) fires. 4.4/5.0 read
   * no `.s` key (`callback['chord_size'] + totaldiff`) and delete only `.j`/`.t`.
   */
  private async legacyPart(
    req: ChordPartRequest,
    jkey: string,
    tkey: string,
    skey: string,
    encoded: Buffer,
    score: string,
    hooks: ChordJoinHooks,
  ): Promise<void> {
    const c = this.o.client;
    const m = c.multi();
    if (this.ordered) m.zadd(jkey, score, encoded).zcount(jkey, '-inf', '+inf');
    else m.rpush(jkey, encoded).llen(jkey);
    m.get(tkey);
    if (!this.sizeInBody) m.get(skey);
    if (this.o.expires) {
      m.expire(jkey, this.o.expires).expire(tkey, this.o.expires);
      if (!this.sizeInBody) m.expire(skey, this.o.expires);
    }
    const res = await m.exec();
    if (res === null) throw new BackendError('chord part pipeline aborted');
    const readycount = Number(res[1]?.[1]);
    const totaldiff = Number(res[2]?.[1] ?? 0);
    const size = chordJoinSize(
      this.o.profile,
      this.sizeInBody ? null : (res[3]?.[1] as string | null),
      req.chord,
    );
    if (size === null) return;
    const total = size + totaldiff;
    if (readycount !== total) return;
    let results: PyValue[];
    try {
      results = await this.readResults(jkey, total);
    } catch (e) {
      if (e instanceof DependencyFailed) await hooks.failBody(req.chord, e.message, e.failure);
      else await hooks.failBody(req.chord, `Join error: ${String(e)}`);
      return;
    }
    try {
      await hooks.publishBody(req.chord, results);
    } catch (e) {
      await hooks.failBody(
        req.chord,
        `Callback error: ${e instanceof Error ? e.message : String(e)}`,
      );
    } finally {
      if (this.sizeInBody) await c.multi().del(jkey).del(tkey).exec();
      else await c.multi().del(jkey).del(tkey).del(skey).exec();
    }
  }
}
