import { BackendError, BackendGetMetaError, isCeleryError } from '../../errors/errors';
import { getProfile } from '../../protocol/profiles';
import { READY_STATES, STARTED } from '../../protocol/states';
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
  decodeContent,
  encodeContent,
  taskMetaFromDjangoRow,
  taskRow,
  type DjangoCodec,
} from './django-rows';
import { text } from './row-codec';
import { createSqlClient, type SqlClient, type SqlParam } from './sql-client';

/** Options of {@link DjangoDbBackend}. */
export interface DjangoDbBackendOptions extends BackendCommonOptions {
  /** `django-db+postgresql://…` / `django-db+mysql://…`: the database Django's `DATABASES` names. */
  url: string;
  /** Poll interval of waits, ms (`subpolling_interval = 0.5`). */
  pollIntervalMs?: number;
}

const TASKS = 'django_celery_results_taskresult';
const GROUPS = 'django_celery_results_groupresult';

/**
 * Celery's `django-db` result backend as django-celery-results 2.6 writes it
 * (`django_celery_results/backends/database.py`, `DatabaseBackend`; `managers.py`,
 * `TaskResultManager.store_result` = `get_or_create(task_id)` then save), on the tables its
 * migrations create (`python manage.py migrate django_celery_results`; Node never creates
 * them). Django's `DATABASES` is not readable from Node: the URL names the same database.
 * Waits poll, as `AsyncResult.get` does on this backend. Chords (`ChordCounter`) are not
 * implemented here.
 */
export class DjangoDbBackend implements ResultBackend {
  readonly capabilities: BackendCapabilities = {
    supportsNativeJoin: false,
    persistent: true,
    supportsGroups: true,
  };
  readonly url: DatabaseUrl;
  private readonly sql: SqlClient;
  private readonly codec: DjangoCodec;
  private closing: Promise<void> | undefined;

  constructor(private readonly opts: DjangoDbBackendOptions) {
    this.url = parseDatabaseUrl(opts.url.trim().replace(/^django-db\+/i, ''));
    this.sql = createSqlClient(this.url);
    this.codec = {
      profile: getProfile(opts.profile).name,
      serializer: opts.serializer ?? 'json',
      accept: opts.accept ?? ['json'],
    };
  }

  private q(id: string): string {
    return this.sql.dialect === 'postgresql' ? `"${id}"` : `\`${id}\``;
  }

  /** Django's `timezone.now()` for a `DateTimeField` (UTC; PostgreSQL columns are timestamptz). */
  private now(): string {
    const iso = new Date().toISOString().replace('T', ' ').replace('Z', '');
    return this.sql.dialect === 'postgresql' ? `${iso}+00:00` : iso;
  }

  private live(): void {
    if (this.closing) throw new BackendError('result backend is closed');
  }

  private fail(e: unknown, what: string): Error {
    if (isCeleryError(e)) return e;
    const m = e instanceof Error ? e.message : String(e);
    return new BackendError(`${what} (${this.url.masked}): ${m}`, { cause: e });
  }

  onTaskCall(): Promise<void> {
    this.live();
    return Promise.resolve();
  }

  async getTaskMeta(taskId: string): Promise<TaskMeta> {
    this.live();
    let rows;
    try {
      rows = await this.sql.query(`SELECT * FROM ${TASKS} WHERE ${this.q('task_id')} = ?`, [
        taskId,
      ]);
    } catch (e) {
      throw new BackendGetMetaError(`cannot read result of ${taskId}`, { cause: e, taskId });
    }
    const row = rows[0];
    return row === undefined ? pendingMeta(taskId) : taskMetaFromDjangoRow(row, this.codec, TASKS);
  }

  async waitForResult(taskId: string, opts: WaitOptions = {}): Promise<TaskMeta> {
    const deadline = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
    let last: string | null = null;
    for (;;) {
      opts.signal?.throwIfAborted();
      this.live();
      const meta = await this.getTaskMeta(taskId);
      if (meta.status !== 'PENDING' && meta.status !== last) opts.onState?.(meta);
      last = meta.status;
      if (READY_STATES.has(meta.status)) return meta;
      if (Date.now() >= deadline) throw new BackendError('The operation timed out.');
      const ms = Math.min(this.opts.pollIntervalMs ?? 500, Math.max(1, deadline - Date.now()));
      await new Promise((r) => setTimeout(r, ms));
    }
  }

  async forget(taskId: string): Promise<void> {
    this.live();
    await this.sql
      .query(`DELETE FROM ${TASKS} WHERE ${this.q('task_id')} = ?`, [taskId])
      .catch((e: unknown) => {
        throw this.fail(e, `cannot forget ${taskId}`);
      });
  }

  async storeResult(
    taskId: string,
    result: PyValue,
    state: string,
    o: StoreOptions = {},
  ): Promise<void> {
    this.live();
    const fields = taskRow(
      result,
      state,
      o.traceback ?? null,
      o.request ?? null,
      this.opts.extended === true,
      this.codec,
    );
    const now = this.now();
    // `date_done` is `auto_now` (every save), `date_created` `auto_now_add`, `date_started`
    // set for STARTED only (`Now()`).
    const set: Record<string, string | null> = { ...fields, date_done: now };
    if (state === STARTED) set.date_started = now;
    const cols = Object.keys(set);
    const params = cols.map((c) => set[c] as SqlParam);
    try {
      await this.sql.transaction(async (tx) => {
        const rows = await tx(
          `SELECT ${this.q('id')} FROM ${TASKS} WHERE ${this.q('task_id')} = ? FOR UPDATE`,
          [taskId],
        );
        if (rows.length > 0) {
          const assign = cols.map((c) => `${this.q(c)} = ?`).join(', ');
          await tx(`UPDATE ${TASKS} SET ${assign} WHERE ${this.q('task_id')} = ?`, [
            ...params,
            taskId,
          ]);
          return;
        }
        const names = ['task_id', 'date_created', ...cols].map((c) => this.q(c));
        const extra = state === STARTED ? [] : [this.q('date_started')];
        const marks = [...names, ...extra].map(() => '?');
        await tx(
          `INSERT INTO ${TASKS} (${[...names, ...extra].join(', ')}) VALUES (${marks.join(', ')})`,
          [taskId, now, ...params, ...extra.map(() => null)],
        );
      });
    } catch (e) {
      throw this.fail(e, `cannot store result of ${taskId}`);
    }
  }

  /** `_save_group`: `encode_content(group_result.as_tuple())`, `get_or_create(group_id)`. */
  async saveGroup(groupId: string, groupTuple: PyValue): Promise<void> {
    this.live();
    const [type, encoding, value] = encodeContent(groupTuple, this.codec);
    const now = this.now();
    try {
      await this.sql.transaction(async (tx) => {
        const rows = await tx(
          `SELECT ${this.q('id')} FROM ${GROUPS} WHERE ${this.q('group_id')} = ? FOR UPDATE`,
          [groupId],
        );
        if (rows.length > 0) {
          await tx(
            `UPDATE ${GROUPS} SET ${this.q('result')} = ?, ${this.q('content_encoding')} = ?, ${this.q('content_type')} = ?, ${this.q('date_done')} = ? WHERE ${this.q('group_id')} = ?`,
            [value, encoding, type, now, groupId],
          );
          return;
        }
        await tx(
          `INSERT INTO ${GROUPS} (${['group_id', 'date_created', 'date_done', 'content_type', 'content_encoding', 'result'].map((c) => this.q(c)).join(', ')}) VALUES (?, ?, ?, ?, ?, ?)`,
          [groupId, now, now, type, encoding, value],
        );
      });
    } catch (e) {
      throw this.fail(e, `cannot save group ${groupId}`);
    }
  }

  async restoreGroup(groupId: string): Promise<PyValue> {
    this.live();
    const rows = await this.sql
      .query(`SELECT * FROM ${GROUPS} WHERE ${this.q('group_id')} = ?`, [groupId])
      .catch((e: unknown) => {
        throw this.fail(e, `cannot restore group ${groupId}`);
      });
    const row = rows[0];
    if (row === undefined) return null;
    try {
      return decodeContent(
        row.result,
        text(row.content_type, 'application/json'),
        text(row.content_encoding, 'utf-8'),
        this.codec.accept,
      );
    } catch (e) {
      throw new BackendGetMetaError(
        `cannot read row ${GROUPS}.group_id=${JSON.stringify(groupId)}`,
        {
          cause: e,
          taskId: groupId,
        },
      );
    }
  }

  async deleteGroup(groupId: string): Promise<void> {
    this.live();
    await this.sql
      .query(`DELETE FROM ${GROUPS} WHERE ${this.q('group_id')} = ?`, [groupId])
      .catch((e: unknown) => {
        throw this.fail(e, `cannot delete group ${groupId}`);
      });
  }

  close(): Promise<void> {
    this.closing ??= this.sql.close().catch(() => undefined);
    return this.closing;
  }
}
