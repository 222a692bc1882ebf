// The SQLite adapter over better-sqlite3 (Node): `@schema-sync/client/better-sqlite3`.

import type Database from "better-sqlite3";
import type { SqlRow, SqlValue, SqliteAdapter } from "../adapter.js";
import { StatementCache } from "./statements.js";

/** The adapter of an open better-sqlite3 database; WAL and a busy timeout are set, so the app may
 * also use the file from another connection. The app keeps using `db` (through Drizzle's
 * `drizzle-orm/better-sqlite3`, say) for its own reads and writes. */
export function betterSqlite3Adapter(db: Database.Database): SqliteAdapter {
  db.pragma("journal_mode = WAL");
  db.pragma("busy_timeout = 5000");
  const statements = new StatementCache((sql) => db.prepare(sql));
  const params = (values: readonly SqlValue[] | undefined) => (values ?? []) as unknown[];
  return {
    exec(sql) {
      db.exec(sql);
      // A script may change the schema: statements prepared before may no longer fit it.
      statements.clear();
    },
    run: (sql, values) => statements.get(sql).run(...params(values)).changes,
    all: (sql, values) => statements.get(sql).all(...params(values)) as SqlRow[],
    get: (sql, values) => statements.get(sql).get(...params(values)) as SqlRow | undefined,
    transaction: (fn) => db.transaction(fn).immediate(),
    inTransaction: () => db.inTransaction,
  };
}
