import { isAscii } from 'node:buffer';
import type { Redis } from 'ioredis';
import { BackendError, BackendGetMetaError } from '../../errors/errors';

/** One guarded result write (`BaseKeyValueStoreBackend._store_result` for one task). */
export interface GuardedWrite {
  /** `celery-task-meta-<id>` (with the global key prefix). */
  key: string;
  /** Task id, for errors. */
  taskId: string;
  /** SETEX seconds; 0 = plain SET (`RedisBackend.set`). */
  expires: number;
  /**
   * Whether the value currently stored must be kept (it is SUCCESS). Throws when the current
   * document cannot be decoded, as `_get_task_meta_for` does.
   */
  keep: (current: Buffer | null) => boolean;
  /** The document to store; called after the guard read, where Celery calls `self.encode(meta)`. */
  encode: () => Buffer;
}

interface Pending extends GuardedWrite {
  resolve: (written: boolean) => void;
  reject: (e: unknown) => void;
}

/** Commands per written task inside the batch's MULTI: SETEX|SET, PUBLISH. */
const PER_WRITE = 2;

/**
 * Result writes of concurrently finishing tasks, batched (bench target of issue 4).
 *
 * Celery's Redis backend stores a result as `GET key` (the "never overwrite SUCCESS" guard,
 * `celery/backends/base.py`, `BaseKeyValueStoreBackend._store_result`), then
 * `MULTI; SETEX key ttl doc; PUBLISH key doc; EXEC` (`celery/backends/redis.py`,
 * `RedisBackend._set`): two round trips and five commands per task. Here the writes queued while
 * the previous batch was in flight go out as one MGET of their keys (the guard reads), then one
 * MULTI holding each kept task's SETEX + PUBLISH, in order, then EXEC. Observably the same to
 * other clients: a MULTI is applied atomically, so one transaction of n SETEX+PUBLISH pairs is
 * exactly the schedule "n transactions, back to back"; each task's read still precedes its write;
 * keys, TTLs, bytes and PUBLISHed messages are identical. Per-task errors come from EXEC's per-
 * command replies. Differences, visible only in MONITOR: MGET instead of GETs, and one
 * MULTI/EXEC frame per batch (a queue-time error such as OOM aborts the whole batch).
 * Two writes to the same key never share a batch: the later one waits for the next batch so
 * that its guard read sees the earlier write (sequential semantics).
 */
export class RedisResultWriter {
  private queue: Pending[] = [];
  private running = false;

  constructor(private readonly client: Redis) {}

  /** Store one result; resolves `false` when the guard kept a stored SUCCESS. */
  write(w: GuardedWrite): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({ ...w, resolve, reject });
      if (!this.running) {
        this.running = true;
        // Gather every write of this event-loop turn (a delivered batch finishes together).
        setImmediate(() => void this.loop());
      }
    });
  }

  private async loop(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.flush(this.takeBatch());
    } finally {
      this.running = false;
    }
  }

  /** The queued writes with distinct keys, in order; same-key successors stay queued. */
  private takeBatch(): Pending[] {
    const batch: Pending[] = [];
    const rest: Pending[] = [];
    const keys = new Set<string>();
    for (const p of this.queue) {
      if (keys.has(p.key)) rest.push(p);
      else {
        keys.add(p.key);
        batch.push(p);
      }
    }
    this.queue = rest;
    return batch;
  }

  private async flush(batch: Pending[]): Promise<void> {
    // The guard reads of the whole batch in one MGET: the same values the per-task GETs would
    // return at that moment (reads only; nothing a Python reader can observe differs).
    let current: (Buffer | null)[];
    try {
      current = await this.client.mgetBuffer(...batch.map((p) => p.key));
    } catch (e) {
      for (const p of batch) p.reject(getError(p, e));
      return;
    }
    const tx = this.client.pipeline();
    const writing: Pending[] = [];
    batch.forEach((p, i) => {
      const raw = current[i] ?? null;
      let value: Buffer | string;
      try {
        if (p.keep(raw)) {
          p.resolve(false);
          return;
        }
        value = wireValue(p.encode());
      } catch (e) {
        p.reject(e);
        return;
      }
      if (writing.length === 0) tx.call('multi');
      if (p.expires) tx.setex(p.key, p.expires, value);
      else tx.set(p.key, value);
      tx.publish(p.key, value);
      writing.push(p);
    });
    if (writing.length === 0) return;
    tx.call('exec');
    let replies: [Error | null, unknown][] | null;
    try {
      replies = await tx.exec();
    } catch (e) {
      for (const p of writing) p.reject(storeError(p, e));
      return;
    }
    // [OK, QUEUED × 2n, EXEC reply]; EXEC carries each command's own reply or error.
    const last = replies?.[replies.length - 1];
    const exec = last?.[1];
    if (replies?.length !== PER_WRITE * writing.length + 2 || !Array.isArray(exec)) {
      const why = replies?.find(([err]) => err !== null)?.[0] ?? last?.[0] ?? exec;
      for (const p of writing) p.reject(storeError(p, why));
      return;
    }
    writing.forEach((p, i) => {
      const own = exec.slice(i * PER_WRITE, (i + 1) * PER_WRITE) as unknown[];
      const inner = own.find((r) => r instanceof Error);
      if (inner) p.reject(storeError(p, inner));
      else p.resolve(true);
    });
  }
}

/**
 * ASCII documents (JSON with `ensure_ascii`, the default) go out as strings: the same bytes, but
 * ioredis then writes the whole pipeline as one string instead of concatenating buffer pieces.
 * Anything else (msgpack, pickle, compressed, non-ASCII JSON) stays a Buffer.
 */
function wireValue(b: Buffer): Buffer | string {
  return isAscii(b) ? b.toString('latin1') : b;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function getError(p: Pending, e: unknown): BackendGetMetaError {
  return new BackendGetMetaError(`cannot GET result of ${p.taskId}: ${message(e)}`, {
    cause: e,
    taskId: p.taskId,
  });
}

function storeError(p: Pending, e: unknown): BackendError {
  return new BackendError(`cannot store ${p.key}: ${message(e)}`, { cause: e });
}
