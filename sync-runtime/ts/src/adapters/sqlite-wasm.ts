// The SQLite adapter over `@sqlite.org/sqlite-wasm` (browsers): `@schema-sync/client/sqlite-wasm`.
// Persistence comes from the `opfs-sahpool` VFS, which only runs in a dedicated worker: open the
// database, the client and the app's Drizzle (`drizzle-orm/sqlite-proxy` over the adapter) in
// one worker, and talk to the page with messages.

import type { Database, PreparedStatement, Sqlite3Static } from "@sqlite.org/sqlite-wasm";
import type { SqlRow, SqlValue, SqliteAdapter } from "../adapter.js";
import { StatementCache } from "./statements.js";

/** The adapter of an open sqlite-wasm database (`oo1.DB` or one of its OPFS kinds). */
export function sqliteWasmAdapter(db: Database): SqliteAdapter {
  const statements = new StatementCache<PreparedStatement>((sql) => db.prepare(sql));
  const finalizeAll = () => statements.clear((s) => s.finalize());
  /** Run a statement to its end, keeping up to `keep` rows. */
  const query = (sql: string, values: readonly SqlValue[] | undefined, keep: number): SqlRow[] => {
    const statement = statements.get(sql);
    try {
      if (values && values.length > 0) statement.bind(values as never);
      const rows: SqlRow[] = [];
      while (statement.step()) {
        if (rows.length < keep) rows.push(statement.get({}) as SqlRow);
      }
      return rows;
    } finally {
      statement.reset(true);
    }
  };
  let depth = 0;
  return {
    exec(sql) {
      finalizeAll();
      db.exec(sql);
    },
    run(sql, values) {
      query(sql, values, 0);
      return db.changes();
    },
    all: (sql, values) => query(sql, values, Infinity),
    get: (sql, values) => query(sql, values, 1)[0],
    transaction(fn) {
      db.exec("BEGIN IMMEDIATE");
      depth += 1;
      try {
        const result = fn();
        db.exec("COMMIT");
        return result;
      } catch (e) {
        db.exec("ROLLBACK");
        throw e;
      } finally {
        depth -= 1;
      }
    },
    inTransaction() {
      if (depth > 0) return true;
      // Only a transaction already open refuses a BEGIN.
      try {
        db.exec("BEGIN");
      } catch {
        return true;
      }
      db.exec("ROLLBACK");
      return false;
    },
  };
}

/** Open `filename` in the browser's Origin Private File System through the `opfs-sahpool` VFS
 * (in a dedicated worker), loading sqlite-wasm first. */
export async function openOpfsDatabase(filename: string): Promise<{ sqlite3: Sqlite3Static; db: Database }> {
  const { default: init } = await import("@sqlite.org/sqlite-wasm");
  const sqlite3 = await init();
  const pool = await sqlite3.installOpfsSAHPoolVfs({});
  return { sqlite3, db: new pool.OpfsSAHPoolDb(filename) };
}
