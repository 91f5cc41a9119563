import type { SqlDialect } from './db-url';
import { text } from './row-codec';
import type { Query } from './sql-client';

/**
 * The tables of Celery's SQLAlchemy backend (`celery/backends/database/models.py`), as
 * `metadata.create_all` emits them with SQLAlchemy 2.0 (checked against the live schema created
 * by Celery 5.7.0 and 5.2.7 on PostgreSQL 15 and MariaDB 10.11):
 *
 * - `id INTEGER` fed by `Sequence('task_id_sequence')` / `'taskset_id_sequence'`: a real
 *   sequence on PostgreSQL and on MariaDB ≥ 10.3 (SQLAlchemy's MariaDB dialect supports them),
 *   `AUTO_INCREMENT` on MySQL;
 * - `result`: `PickleType` (BYTEA/BLOB) up to 5.6, `LargeBinary` holding the
 *   `result_serializer` encoding on 5.7 (celery/celery#3025, PR #10536); `children` and
 *   `stamps` (LargeBinary) and the `date_done` indexes are 5.7 only;
 * - `TaskExtended` adds `name, args, kwargs, worker, retries, queue` to the same table, which
 *   always has them (both classes share one `Table` object with `extend_existing`).
 */

/** `database_table_names` / `database_table_schemas` (keys `task` and `group`). */
export interface TableNaming {
  tableNames?: Readonly<{ task?: string; group?: string }>;
  tableSchemas?: Readonly<{ task?: string; group?: string }>;
}

export interface TableRef {
  /** Quoted, schema-qualified table name. */
  sql: string;
  /** Quoted, schema-qualified sequence name. */
  sequence: string;
  /** Bare names (for information_schema lookups). */
  name: string;
  schema: string | null;
  sequenceName: string;
}

function quote(dialect: SqlDialect, id: string): string {
  if (dialect === 'postgresql') return `"${id.replace(/"/g, '""')}"`;
  return `\`${id.replace(/`/g, '``')}\``;
}

function ref(dialect: SqlDialect, name: string, schema: string | null, seq: string): TableRef {
  const q = (id: string): string =>
    (schema ? `${quote(dialect, schema)}.` : '') + quote(dialect, id);
  return { sql: q(name), sequence: q(seq), name, schema, sequenceName: seq };
}

export function taskTable(dialect: SqlDialect, n: TableNaming = {}): TableRef {
  return ref(
    dialect,
    n.tableNames?.task ?? 'celery_taskmeta',
    n.tableSchemas?.task ?? null,
    'task_id_sequence',
  );
}

export function groupTable(dialect: SqlDialect, n: TableNaming = {}): TableRef {
  return ref(
    dialect,
    n.tableNames?.group ?? 'celery_tasksetmeta',
    n.tableSchemas?.group ?? null,
    'taskset_id_sequence',
  );
}

/** How ids are generated on this server. */
export type IdStrategy = 'sequence' | 'auto_increment';

/** `Task` columns in declaration order (the table always has the extended ones). */
export function taskColumns(line57: boolean): readonly string[] {
  const base = ['id', 'task_id', 'status', 'result', 'date_done', 'traceback'];
  const ext = ['name', 'args', 'kwargs', 'worker', 'retries', 'queue'];
  return line57 ? [...base, 'children', ...ext, 'stamps'] : [...base, ...ext];
}

/** The `CREATE` statements of `metadata.create_all` for one line and dialect. */
export function createStatements(
  dialect: SqlDialect,
  ids: IdStrategy,
  line57: boolean,
  task: TableRef,
  group: TableRef,
): string[] {
  const pg = dialect === 'postgresql';
  const bin = pg ? 'BYTEA' : 'BLOB';
  const ts = pg ? 'TIMESTAMP WITHOUT TIME ZONE' : 'DATETIME';
  const id = ids === 'auto_increment' ? 'INTEGER NOT NULL AUTO_INCREMENT' : 'INTEGER NOT NULL';
  const types: Record<string, string> = {
    id,
    task_id: 'VARCHAR(155)',
    status: 'VARCHAR(50)',
    result: bin,
    date_done: ts,
    traceback: 'TEXT',
    children: bin,
    name: 'VARCHAR(155)',
    args: bin,
    kwargs: bin,
    worker: 'VARCHAR(155)',
    retries: 'INTEGER',
    queue: 'VARCHAR(155)',
    stamps: bin,
  };
  const cols = taskColumns(line57).map((c) => `${quote(dialect, c)} ${types[c] ?? ''}`);
  const q = (c: string): string => quote(dialect, c);
  const out: string[] = [];
  if (ids === 'sequence') {
    out.push(`CREATE SEQUENCE IF NOT EXISTS ${task.sequence}`);
    out.push(`CREATE SEQUENCE IF NOT EXISTS ${group.sequence}`);
  }
  out.push(
    `CREATE TABLE IF NOT EXISTS ${task.sql} (${cols.join(', ')}, PRIMARY KEY (${q('id')}), UNIQUE (${q('task_id')}))`,
  );
  out.push(
    `CREATE TABLE IF NOT EXISTS ${group.sql} (${q('id')} ${id}, ${q('taskset_id')} VARCHAR(155), ` +
      `${q('result')} ${bin}, ${q('date_done')} ${ts}, PRIMARY KEY (${q('id')}), UNIQUE (${q('taskset_id')}))`,
  );
  if (line57) {
    for (const t of [task, group]) {
      const ix = quote(dialect, `ix_${t.name}_date_done`);
      out.push(
        pg
          ? `CREATE INDEX IF NOT EXISTS ${ix} ON ${t.sql} (${q('date_done')})`
          : `CREATE INDEX IF NOT EXISTS ${ix} ON ${t.sql} (${q('date_done')})`,
      );
    }
  }
  return out;
}

/** Which id strategy SQLAlchemy uses on this server (sequences on PostgreSQL and MariaDB ≥ 10.3). */
export async function detectIdStrategy(dialect: SqlDialect, q: Query): Promise<IdStrategy> {
  if (dialect === 'postgresql') return 'sequence';
  const rows = await q('SELECT VERSION() AS v');
  const v = text(rows[0]?.v);
  const m = /^(\d+)\.(\d+)/.exec(v);
  const maria = /mariadb/i.test(v);
  const ok =
    maria && m !== null && (Number(m[1]) > 10 || (Number(m[1]) === 10 && Number(m[2]) >= 3));
  return ok ? 'sequence' : 'auto_increment';
}

/** The columns an existing table has (lower-case), empty when the table is missing. */
export async function existingColumns(
  dialect: SqlDialect,
  q: Query,
  t: TableRef,
): Promise<Set<string>> {
  const rows =
    dialect === 'postgresql'
      ? await q(
          'SELECT column_name AS c FROM information_schema.columns WHERE table_name = ? AND table_schema = ' +
            (t.schema ? '?' : 'current_schema()'),
          t.schema ? [t.name, t.schema] : [t.name],
        )
      : await q(
          'SELECT column_name AS c FROM information_schema.columns WHERE table_name = ? AND table_schema = ' +
            (t.schema ? '?' : 'DATABASE()'),
          t.schema ? [t.name, t.schema] : [t.name],
        );
  return new Set(rows.map((r) => text(r.c ?? r.C ?? r.COLUMN_NAME).toLowerCase()));
}

/** Whether the id sequence exists (a table made by another tool may use AUTO_INCREMENT/serial). */
export async function sequenceExists(dialect: SqlDialect, q: Query, t: TableRef): Promise<boolean> {
  if (dialect === 'postgresql') {
    const rows = await q('SELECT to_regclass(?) AS r', [
      t.schema ? `${t.schema}.${t.sequenceName}` : t.sequenceName,
    ]);
    return rows[0]?.r !== null && rows[0]?.r !== undefined;
  }
  const rows = await q(
    "SELECT table_name AS n FROM information_schema.tables WHERE table_type = 'SEQUENCE' AND table_name = ? AND table_schema = " +
      (t.schema ? '?' : 'DATABASE()'),
    t.schema ? [t.sequenceName, t.schema] : [t.sequenceName],
  );
  return rows.length > 0;
}

/** `nextval` expression of a sequence in this dialect. */
export function nextval(dialect: SqlDialect, t: TableRef): string {
  return dialect === 'postgresql'
    ? `nextval('${t.sequence.replace(/'/g, "''")}')`
    : `NEXTVAL(${t.sequence})`;
}
