import {
  BackendError,
  BackendGetMetaError,
  CeleryTimeoutError,
  isCeleryError,
} from '../../errors/errors';
import { getProfile, type CeleryProfileName } from '../../protocol/profiles';
import { buildResultMeta } from '../../protocol/result-meta';
import { READY_STATES, SUCCESS } from '../../protocol/states';
import { isoformatMicros, toEpochMicros, type Instant } from '../../protocol/time';
import type { PyValue } from '../../serialization/py-values';
import type {
  BackendCapabilities,
  BackendCommonOptions,
  ResultBackend,
  StoreOptions,
  TaskMeta,
  WaitOptions,
} from '../backend';
import { pendingMeta } from '../codec';
import { parseDatabaseUrl, type DatabaseUrl } from './db-url';
import {
  groupFromRow,
  groupRowValue,
  sqlDateTime,
  taskMetaFromRow,
  taskRowValues,
  type RowCodecOptions,
} from './row-codec';
import {
  createStatements,
  detectIdStrategy,
  existingColumns,
  groupTable,
  nextval,
  sequenceExists,
  taskColumns,
  taskTable,
  type TableNaming,
  type TableRef,
} from './schema';
import { createSqlClient, type Query, type SqlClient, type SqlParam } from './sql-client';

/** Options of {@link DatabaseBackend}. */
export interface DatabaseBackendOptions extends BackendCommonOptions, TableNaming {
  /** `db+postgresql://…`, `db+mysql+pymysql://…` (or a parsed URL). */
  url: string | DatabaseUrl;
  /** `database_short_lived_sessions`: one connection per operation (Celery: a new session). */
  shortLivedSessions?: boolean;
  /** `database_create_tables_at_setup` (5.7; default: create on first use, like 5.2). */
  createTablesAtSetup?: boolean;
  /** Poll interval of {@link DatabaseBackend.waitForResult}, ms (`AsyncResult.get(interval=0.5)`). */
  pollIntervalMs?: number;
}

interface Ready {
  task: TableRef;
  group: TableRef;
  taskCols: Set<string>;
  taskSeq: boolean;
  groupSeq: boolean;
}

function wrap(e: unknown, what: string): Error {
  if (isCeleryError(e)) return e;
  return new BackendError(`${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });

/**
 * Celery's SQLAlchemy result backend (`celery/backends/database/__init__.py`) on `pg`/`mysql2`:
 * rows of `celery_taskmeta`/`celery_tasksetmeta` written and read exactly as the configured
 * Celery line does (see row-codec.ts, schema.ts). No native join: chords go through
 * `celery.chord_unlock`, and waits poll, as `AsyncResult.get` does on this backend.
 */
export class DatabaseBackend implements ResultBackend {
  readonly capabilities: BackendCapabilities = {
    supportsNativeJoin: false,
    persistent: true,
    supportsGroups: true,
  };
  readonly url: DatabaseUrl;
  private readonly sql: SqlClient;
  private readonly codec: RowCodecOptions;
  private readonly profile: CeleryProfileName;
  /** `databaseTaskMeta57` of the line's profile. */
  private readonly meta57: boolean;
  private readonly now: () => Instant;
  private ready: Promise<Ready> | undefined;
  private closing: Promise<void> | undefined;
  private readonly closed = new AbortController();

  constructor(private readonly opts: DatabaseBackendOptions) {
    this.url = typeof opts.url === 'string' ? parseDatabaseUrl(opts.url) : opts.url;
    this.sql = createSqlClient(this.url, opts.shortLivedSessions === true);
    this.profile = getProfile(opts.profile).name;
    this.meta57 = getProfile(opts.profile).databaseTaskMeta57 === true;
    this.codec = {
      profile: this.profile,
      serializer: opts.serializer ?? 'json',
      accept: opts.accept ?? ['json'],
    };
    this.now = opts.now ?? ((): Instant => new Date());
    if (opts.createTablesAtSetup === true) void this.setup().catch(() => undefined);
  }

  /** `ResultSession` → `prepare_models`: create the tables (checkfirst) and learn the columns. */
  private setup(): Promise<Ready> {
    this.ready ??= (async () => {
      const d = this.sql.dialect;
      const task = taskTable(d, this.opts);
      const group = groupTable(d, this.opts);
      const q = this.sql.query;
      let taskCols = await existingColumns(d, q, task);
      if (taskCols.size === 0 || (await existingColumns(d, q, group)).size === 0) {
        const ids = await detectIdStrategy(d, q);
        for (const s of createStatements(d, ids, this.meta57, task, group)) await q(s);
        taskCols = await existingColumns(d, q, task);
      }
      return {
        task,
        group,
        taskCols,
        taskSeq: await sequenceExists(d, q, task),
        groupSeq: await sequenceExists(d, q, group),
      };
    })().catch((e: unknown) => {
      this.ready = undefined;
      throw wrap(e, `cannot prepare the result tables on ${this.url.masked}`);
    });
    return this.ready;
  }

  private live(): void {
    if (this.closing) throw new BackendError('result backend is closed');
  }

  private q(id: string): string {
    return this.sql.dialect === 'postgresql' ? `"${id}"` : `\`${id}\``;
  }

  onTaskCall(): Promise<void> {
    this.live();
    return Promise.resolve();
  }

  async getTaskMeta(taskId: string): Promise<TaskMeta> {
    this.live();
    const r = await this.setup();
    let rows;
    try {
      rows = await this.sql.query(`SELECT * FROM ${r.task.sql} WHERE ${this.q('task_id')} = ?`, [
        taskId,
      ]);
    } catch (e) {
      throw new BackendGetMetaError(`cannot read result of ${taskId}`, { cause: e, taskId });
    }
    const row = rows[0];
    if (row === undefined) return pendingMeta(taskId);
    return taskMetaFromRow(row, this.codec, r.task.name);
  }

  async waitForResult(taskId: string, opts: WaitOptions = {}): Promise<TaskMeta> {
    this.live();
    const deadline = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
    const interval = this.opts.pollIntervalMs ?? 500;
    let last: string | null = null;
    for (;;) {
      opts.signal?.throwIfAborted();
      const meta = await this.getTaskMeta(taskId);
      if (meta.status !== 'PENDING' && meta.status !== last) opts.onState?.(meta);
      last = meta.status;
      if (READY_STATES.has(meta.status)) return meta;
      if (Date.now() >= deadline) throw new CeleryTimeoutError('The operation timed out.');
      const signal = AbortSignal.any([this.closed.signal, ...(opts.signal ? [opts.signal] : [])]);
      await sleep(Math.min(interval, Math.max(1, deadline - Date.now())), signal);
    }
  }

  async forget(taskId: string): Promise<void> {
    this.live();
    const r = await this.setup();
    await this.sql
      .query(`DELETE FROM ${r.task.sql} WHERE ${this.q('task_id')} = ?`, [taskId])
      .catch((e: unknown) => {
        throw wrap(e, `cannot forget ${taskId}`);
      });
  }

  async storeResult(
    taskId: string,
    result: PyValue,
    state: string,
    opts: StoreOptions = {},
  ): Promise<void> {
    this.live();
    const r = await this.setup();
    const extended = this.opts.extended === true;
    const doc = buildResultMeta({
      taskId,
      state,
      result,
      traceback: opts.traceback ?? null,
      request: opts.request ?? null,
      ...(opts.currentChildren ? { currentChildren: opts.currentChildren } : {}),
      now: this.now(),
      extended,
      profile: this.profile,
    });
    const values = taskRowValues(doc, this.codec, extended, (c) => r.taskCols.has(c));
    const cols = Object.keys(values).filter((c) => r.taskCols.has(c));
    try {
      await this.sql.transaction(async (tx: Query) => {
        // `_store_result`: lock an existing row; a stored SUCCESS is never overwritten (5.7.0;
        // 5.2 overwrote it, which a repeated run cannot tell apart from at-least-once).
        const rows = await tx(
          `SELECT ${this.q('status')} FROM ${r.task.sql} WHERE ${this.q('task_id')} = ? FOR UPDATE`,
          [taskId],
        );
        const params = cols.map((c) => values[c] as SqlParam);
        if (rows.length > 0) {
          if (this.meta57 && rows[0]?.status === SUCCESS) return;
          const set = cols.map((c) => `${this.q(c)} = ?`).join(', ');
          await tx(`UPDATE ${r.task.sql} SET ${set} WHERE ${this.q('task_id')} = ?`, [
            ...params,
            taskId,
          ]);
          return;
        }
        const idCol = r.taskSeq ? [this.q('id')] : [];
        const idVal = r.taskSeq ? [nextval(this.sql.dialect, r.task)] : [];
        const names = [...idCol, this.q('task_id'), ...cols.map((c) => this.q(c))];
        const marks = [...idVal, '?', ...cols.map(() => '?')];
        await tx(`INSERT INTO ${r.task.sql} (${names.join(', ')}) VALUES (${marks.join(', ')})`, [
          taskId,
          ...params,
        ]);
      });
    } catch (e) {
      throw wrap(e, `cannot store result of ${taskId}`);
    }
  }

  /** The SQLAlchemy URL `DatabaseBackend.__reduce__` pickles as `dburi` (no `db+`). */
  private dburi(): string {
    const u = this.opts.url;
    return typeof u === 'string' ? u.trim().replace(/^db\+/i, '') : u.masked;
  }

  async saveGroup(groupId: string, groupTuple: PyValue): Promise<void> {
    this.live();
    const r = await this.setup();
    const exp = this.opts.expiresSeconds === undefined ? 86_400 : this.opts.expiresSeconds;
    const value = groupRowValue(groupTuple, this.codec, {
      dburi: this.dburi(),
      expiresSeconds: exp,
    });
    const idCol = r.groupSeq ? `${this.q('id')}, ` : '';
    const idVal = r.groupSeq ? `${nextval(this.sql.dialect, r.group)}, ` : '';
    // `TaskSet.date_done` column default: the UTC now, naive.
    const doneText = sqlDateTime(isoformatMicros(toEpochMicros(this.now()), { naive: true }));
    await this.sql
      .query(
        `INSERT INTO ${r.group.sql} (${idCol}${this.q('taskset_id')}, ${this.q('result')}, ${this.q('date_done')}) ` +
          `VALUES (${idVal}?, ?, ?)`,
        [groupId, value, doneText],
      )
      .catch((e: unknown) => {
        throw wrap(e, `cannot save group ${groupId}`);
      });
  }

  async restoreGroup(groupId: string): Promise<PyValue> {
    this.live();
    const r = await this.setup();
    const rows = await this.sql
      .query(`SELECT * FROM ${r.group.sql} WHERE ${this.q('taskset_id')} = ?`, [groupId])
      .catch((e: unknown) => {
        throw wrap(e, `cannot restore group ${groupId}`);
      });
    const row = rows[0];
    return row === undefined ? null : groupFromRow(row, this.codec, r.group.name);
  }

  async deleteGroup(groupId: string): Promise<void> {
    this.live();
    const r = await this.setup();
    await this.sql
      .query(`DELETE FROM ${r.group.sql} WHERE ${this.q('taskset_id')} = ?`, [groupId])
      .catch((e: unknown) => {
        throw wrap(e, `cannot delete group ${groupId}`);
      });
  }

  /** `cleanup()` (run by `celery.backend_cleanup`): delete rows older than `result_expires`. */
  async cleanup(): Promise<void> {
    const exp = this.opts.expiresSeconds === undefined ? 86_400 : this.opts.expiresSeconds;
    if (!exp) return;
    const r = await this.setup();
    const cutoff = new Date(Date.now() - exp * 1000)
      .toISOString()
      .replace('T', ' ')
      .replace('Z', '');
    for (const t of [r.task, r.group])
      await this.sql.query(`DELETE FROM ${t.sql} WHERE ${this.q('date_done')} < ?`, [cutoff]);
  }

  /** Columns of `celery_taskmeta` the configured line declares (for docs and checks). */
  get declaredTaskColumns(): readonly string[] {
    return taskColumns(this.meta57);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed.abort(new BackendError('result backend closed'));
      await this.sql.close().catch(() => undefined);
    })();
    return this.closing;
  }
}
export { DjangoDbBackend, type DjangoDbBackendOptions } from './django-backend';
