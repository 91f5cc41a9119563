import mysql from 'mysql2/promise';
import pg from 'pg';
import type { DatabaseUrl, SqlDialect } from './db-url';

/** One row as the drivers return it: BLOB/bytea → Buffer, DATETIME/timestamp → text. */
export type SqlRow = Readonly<Record<string, unknown>>;
export type SqlParam = string | number | Buffer | null;

/** Run one statement; `?` placeholders (rewritten to `$n` for PostgreSQL). */
export type Query = (sql: string, params?: readonly SqlParam[]) => Promise<SqlRow[]>;

/**
 * The few SQL operations the database backend needs, on `pg` or `mysql2`. With
 * `shortLived` (`database_short_lived_sessions`) every operation opens and closes its own
 * connection, as Celery's NullPool sessions do; otherwise a small pool is kept.
 */
export interface SqlClient {
  readonly dialect: SqlDialect;
  query: Query;
  /** BEGIN … COMMIT around `fn` (ROLLBACK on error) on one connection. */
  transaction<T>(fn: (q: Query) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

function pgSql(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

// `timestamp without time zone` (1114) as text: Celery stores naive UTC, never local time.
const pgTypes = new pg.TypeOverrides();
pgTypes.setTypeParser(1114, (v: string) => v);

class PgClient implements SqlClient {
  readonly dialect = 'postgresql' as const;
  private readonly pool: pg.Pool;
  constructor(
    url: DatabaseUrl,
    private readonly shortLived: boolean,
  ) {
    this.pool = new pg.Pool({
      host: url.host,
      port: url.port,
      database: url.database,
      ...(url.user === null ? {} : { user: url.user }),
      ...(url.password === null ? {} : { password: url.password }),
      types: pgTypes,
      max: shortLived ? 4 : 2,
      idleTimeoutMillis: shortLived ? 1 : 30_000,
      allowExitOnIdle: true,
    });
    this.pool.on('error', () => undefined);
  }
  private run(c: pg.PoolClient): Query {
    return async (sql, params = []) =>
      (await c.query(pgSql(sql), params as unknown[])).rows as SqlRow[];
  }
  query: Query = async (sql, params) => this.transactionless((q) => q(sql, params));
  private async transactionless<T>(fn: (q: Query) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    let bad = false;
    try {
      return await fn(this.run(c));
    } catch (e) {
      bad = true;
      throw e;
    } finally {
      c.release(this.shortLived || bad);
    }
  }
  transaction<T>(fn: (q: Query) => Promise<T>): Promise<T> {
    return this.transactionless(async (q) => {
      await q('BEGIN');
      try {
        const out = await fn(q);
        await q('COMMIT');
        return out;
      } catch (e) {
        await q('ROLLBACK').catch(() => undefined);
        throw e;
      }
    });
  }
  close(): Promise<void> {
    return this.pool.end();
  }
}

class MysqlClient implements SqlClient {
  readonly dialect = 'mysql' as const;
  private readonly pool: mysql.Pool;
  constructor(
    url: DatabaseUrl,
    private readonly shortLived: boolean,
  ) {
    this.pool = mysql.createPool({
      host: url.host,
      port: url.port,
      database: url.database,
      ...(url.user === null ? {} : { user: url.user }),
      ...(url.password === null ? {} : { password: url.password }),
      charset: url.query.charset ?? 'utf8mb4',
      // DATETIME as text: Celery writes naive UTC; never reinterpret it in local time.
      dateStrings: true,
      supportBigNumbers: true,
      connectionLimit: shortLived ? 4 : 2,
      maxIdle: shortLived ? 0 : 2,
      idleTimeout: shortLived ? 1 : 30_000,
    });
  }
  private run(c: mysql.PoolConnection): Query {
    return async (sql, params = []) => {
      const [rows] = await c.query(sql, params as unknown[]);
      return Array.isArray(rows) ? (rows as SqlRow[]) : [];
    };
  }
  private async withConn<T>(fn: (q: Query) => Promise<T>): Promise<T> {
    const c = await this.pool.getConnection();
    let bad = false;
    try {
      return await fn(this.run(c));
    } catch (e) {
      bad = true;
      throw e;
    } finally {
      if (this.shortLived || bad) c.destroy();
      else c.release();
    }
  }
  query: Query = async (sql, params) => this.withConn((q) => q(sql, params));
  transaction<T>(fn: (q: Query) => Promise<T>): Promise<T> {
    return this.withConn(async (q) => {
      await q('START TRANSACTION');
      try {
        const out = await fn(q);
        await q('COMMIT');
        return out;
      } catch (e) {
        await q('ROLLBACK').catch(() => undefined);
        throw e;
      }
    });
  }
  close(): Promise<void> {
    return this.pool.end();
  }
}

/** A pooled (or short-lived) client for a parsed database URL. */
export function createSqlClient(url: DatabaseUrl, shortLived = false): SqlClient {
  return url.dialect === 'postgresql'
    ? new PgClient(url, shortLived)
    : new MysqlClient(url, shortLived);
}
