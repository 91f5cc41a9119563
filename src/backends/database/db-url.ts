import { CeleryError } from '../../errors/errors';

/** The SQL dialects the database backend speaks (through `pg` and `mysql2`). */
export type SqlDialect = 'postgresql' | 'mysql';

/**
 * A parsed `db+<dialect>[+<driver>]://user:pass@host:port/dbname?opts` URL. Celery strips the
 * `db+` prefix (`celery/app/backends.py`, `by_url`: `url.split('+', 1)[1]`) and hands the rest
 * to SQLAlchemy's `create_engine`; the driver part (`psycopg2`, `pymysql`, `mysqldb`…) only
 * picks the Python DB-API module, so Node accepts every driver name and uses `pg`/`mysql2`.
 */
export interface DatabaseUrl {
  dialect: SqlDialect;
  /** The SQLAlchemy driver name as written (`psycopg2`, `pymysql`), `null` when omitted. */
  driver: string | null;
  host: string;
  port: number;
  user: string | null;
  password: string | null;
  database: string;
  /** Query parameters (`charset`, `sslmode`…), as written. */
  query: Readonly<Record<string, string>>;
  /** The SQLAlchemy URL (without `db+`), password masked, as Celery prints it. */
  masked: string;
}

function configError(message: string): CeleryError {
  return new CeleryError('E_CONFIG', message);
}

/** Parse `db+postgresql://…` / `db+mysql+pymysql://…` (the `db+` prefix is optional here). */
export function parseDatabaseUrl(url: string): DatabaseUrl {
  const text = url.trim().replace(/^db\+/i, '');
  const sep = text.indexOf('://');
  if (sep < 0) throw configError(`not a database URL: ${url}`);
  const [dialectName = '', driver = null] = text.slice(0, sep).toLowerCase().split('+', 2);
  let dialect: SqlDialect;
  if (dialectName === 'postgresql' || dialectName === 'postgres') dialect = 'postgresql';
  else if (dialectName === 'mysql' || dialectName === 'mariadb') dialect = 'mysql';
  else throw configError(`Unsupported database dialect ${JSON.stringify(dialectName)} (${url})`);
  let parsed: URL;
  try {
    parsed = new URL(`http://${text.slice(sep + 3)}`);
  } catch (e) {
    throw new CeleryError('E_CONFIG', `invalid database URL: ${url}`, { cause: e });
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!database) throw configError(`database URL names no database: ${url}`);
  const query: Record<string, string> = {};
  for (const [k, v] of parsed.searchParams) query[k] = v;
  const user = parsed.username ? decodeURIComponent(parsed.username) : null;
  const password = parsed.password ? decodeURIComponent(parsed.password) : null;
  const host = parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = parsed.port ? Number(parsed.port) : dialect === 'postgresql' ? 5432 : 3306;
  const scheme = text.slice(0, sep);
  const auth = user === null ? '' : `${parsed.username}${password === null ? '' : ':***'}@`;
  const masked = `${scheme}://${auth}${parsed.host}${parsed.pathname}${parsed.search}`;
  return { dialect, driver, host, port, user, password, database, query, masked };
}
