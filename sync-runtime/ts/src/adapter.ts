// The small synchronous SQLite interface the client runs on, so that one client serves
// better-sqlite3 in Node, sqlite-wasm in a browser worker, and later React Native drivers.
//
// It is synchronous on purpose: a transaction runs start to end without yielding to the event
// loop, so no write of the app can slip into the client's apply (whose triggers are silenced)
// on the same connection.

/** A value SQLite stores. */
export type SqlValue = string | number | bigint | Uint8Array | null;

/** A row read by `all` or `get`: its columns by name. */
export type SqlRow = Record<string, SqlValue>;

export interface SqliteAdapter {
  /** Run one or more statements without parameters (DDL, pragmas, migration scripts). */
  exec(sql: string): void;
  /** Run one statement with positional parameters; the number of rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): number;
  /** Every row of a query. */
  all(sql: string, params?: readonly SqlValue[]): SqlRow[];
  /** The first row of a query, if any. */
  get(sql: string, params?: readonly SqlValue[]): SqlRow | undefined;
  /** Run `fn` in one `BEGIN IMMEDIATE` transaction: committed when it returns, rolled back
   * when it throws. */
  transaction<T>(fn: () => T): T;
  /** Whether a transaction is open (a failed migration script may leave one). */
  inTransaction(): boolean;
}
