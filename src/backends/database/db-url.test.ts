import { parseBackendUrl } from '../url';
import { parseDatabaseUrl } from './db-url';

describe('database backend URLs', () => {
  it.each([
    ['db+postgresql://u:p%40ss@db.example:6543/app', 'postgresql', null, 6543, 'p@ss'],
    ['db+postgresql+psycopg2://u@h/app?sslmode=require', 'postgresql', 'psycopg2', 5432, null],
    ['db+mysql://root@127.0.0.1/app', 'mysql', null, 3306, null],
    ['db+mysql+pymysql://root:x@127.0.0.1:3307/app?charset=utf8mb4', 'mysql', 'pymysql', 3307, 'x'],
  ] as const)('%s', (url, dialect, driver, port, password) => {
    expect(parseBackendUrl(url).kind).toBe('database');
    const u = parseDatabaseUrl(url);
    expect(u).toMatchObject({ dialect, driver, port, password, database: 'app' });
    if (password !== null) expect(u.masked).toContain(':***@');
  });

  it('refuses other dialects and URLs without a database', () => {
    expect(() => parseDatabaseUrl('db+sqlite:///x.db')).toThrow(/Unsupported database dialect/);
    expect(() => parseDatabaseUrl('db+postgresql://h:5432/')).toThrow(/names no database/);
  });
});
