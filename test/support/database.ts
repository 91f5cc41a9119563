import { parseDatabaseUrl } from '../../src/backends/database/db-url';
import { createSqlClient } from '../../src/backends/database/sql-client';

/**
 * Create the database `url` names if it does not exist yet (the machine's PostgreSQL and MariaDB
 * have only their default databases). Each test file that uses one calls this itself, so no file
 * depends on another having run first.
 */
export async function ensureDatabase(url: string): Promise<void> {
  const u = parseDatabaseUrl(url);
  const admin = createSqlClient({
    ...u,
    database: u.dialect === 'postgresql' ? 'postgres' : 'mysql',
  });
  try {
    if (u.dialect === 'postgresql') {
      const rows = await admin.query('SELECT 1 FROM pg_database WHERE datname = ?', [u.database]);
      if (rows.length === 0) await admin.query(`CREATE DATABASE "${u.database}"`);
    } else {
      await admin.query(`CREATE DATABASE IF NOT EXISTS \`${u.database}\``);
    }
  } finally {
    await admin.close();
  }
}
