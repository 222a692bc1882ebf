// The device's database as the client sees it: every synced table with the statements sync runs
// on it, and the outbox.
//
// Outbox keys are the JSON objects the generated triggers wrote (`json_object` of the stored key
// values), so a statement finds a row by its outbox key with `json_extract`, and an outbox entry
// by a row's stored key with `json_object`, without rebuilding the JSON text here.

import type { SqlRow, SqlValue, SqliteAdapter } from "./adapter.js";
import { SyncClientError } from "./errors.js";
import type { SyncColumn, SyncSchema, SyncTable } from "./schema.js";
import { type Storage, type WireRow, type WireValue, storageOf, toStored, toWire } from "./values.js";

export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** An outbox entry found for a row: a local write not yet acknowledged by the server. */
export interface Pending {
  key: string;
  deletedAt: string | null;
}

/** One synced table of the local database. */
export class TablePlan {
  readonly meta: SyncTable;
  readonly columns: readonly { column: SyncColumn; storage: Storage; where: string }[];
  readonly key: readonly { name: string; storage: Storage; where: string }[];
  /** Whether `upsertMany` stores this table's rows exactly: not when it has a REAL column, since
   * SQLite's reading of a JSON number is not always the nearest double (1e-300 becomes
   * 9.999999999999999e-301), while a bound double is stored as it is. */
  readonly batchable: boolean;
  /** `json_object(...)` of a stored row's key columns, for SQL over the table's rows: the outbox's
   * form of its key, as the generated triggers write it. */
  readonly rowKeyObject: string;
  private readonly selectByKeyJson: string;
  private readonly selectAll: string;
  private readonly upsertSql: string;
  private readonly upsertManySql: string;
  private readonly deleteSql: string;
  private readonly pendingSql: string;
  private readonly keyJsonSql: string;

  /** The plan of `table`, whose columns the database declares with the types `declared`. */
  constructor(table: SyncTable, declared: ReadonlyMap<string, string>) {
    this.meta = table;
    this.columns = table.columns.map((column) => {
      const where = `column \`${table.name}.${column.name}\``;
      const type = declared.get(column.name);
      if (type === undefined) {
        throw new SyncClientError(
          "database",
          `table \`${table.name}\` has no column \`${column.name}\`: the database is not at this schema`,
        );
      }
      return { column, storage: storageOf(column.type, type, where), where };
    });
    this.key = table.primaryKey.map((name) => {
      const found = this.columns.find((c) => c.column.name === name);
      if (!found) throw new SyncClientError("database", `key column \`${table.name}.${name}\` is not a column`);
      return { name, storage: found.storage, where: found.where };
    });
    this.batchable = this.columns.every((c) => c.storage !== "real");
    const name = ident(table.name);
    const names = this.columns.map((c) => ident(c.column.name));
    const keyNames = this.key.map((k) => ident(k.name));
    const byJson = this.key.map((k) => `${ident(k.name)} = json_extract(?, ${literal(`$."${k.name}"`)})`);
    const byValues = keyNames.map((k) => `${k} = ?`);
    const updates = names.filter((n) => !keyNames.includes(n)).map((n) => `${n} = excluded.${n}`);
    const onConflict = updates.length === 0 ? "DO NOTHING" : `DO UPDATE SET ${updates.join(", ")}`;
    const keyObject = `json_object(${this.key.map((k) => `${literal(k.name)}, ?`).join(", ")})`;
    this.rowKeyObject = `json_object(${this.key.map((k) => `${literal(k.name)}, ${ident(k.name)}`).join(", ")})`;
    // `?` placeholders of json_extract take the same outbox key once per key column.
    this.selectByKeyJson = `SELECT ${names.join(", ")} FROM ${name} WHERE ${byJson.join(" AND ")}`;
    this.selectAll = `SELECT ${names.join(", ")} FROM ${name} ORDER BY ${keyNames.join(", ")}`;
    this.upsertSql =
      `INSERT INTO ${name} (${names.join(", ")}) VALUES (${names.map(() => "?").join(", ")}) ` +
      `ON CONFLICT (${keyNames.join(", ")}) ${onConflict}`;
    // The same upsert over the rows of one JSON array of stored rows (each an array in column
    // order): one statement and one bound value for many rows. `WHERE true` lets SQLite parse
    // the upsert clause after a SELECT.
    const fromJson = this.columns.map((_, i) => `json_extract(value, '$[${i}]')`);
    this.upsertManySql =
      `INSERT INTO ${name} (${names.join(", ")}) SELECT ${fromJson.join(", ")} FROM json_each(?) WHERE true ` +
      `ON CONFLICT (${keyNames.join(", ")}) ${onConflict}`;
    this.deleteSql = `DELETE FROM ${name} WHERE ${byValues.join(" AND ")}`;
    this.pendingSql =
      `SELECT key, seq, deleted_at FROM _sync_outbox WHERE table_name = ${literal(table.name)} AND key = ${keyObject}`;
    this.keyJsonSql = `SELECT ${keyObject} AS key`;
  }

  /** The row whose outbox key is `keyJson`, in wire form, or undefined when it is gone. */
  read(db: SqliteAdapter, keyJson: string): WireRow | undefined {
    const row = db.get(this.selectByKeyJson, this.key.map(() => keyJson));
    return row && this.wireRow(row);
  }

  /** Every row of the table in wire form, in primary key order. */
  all(db: SqliteAdapter): WireRow[] {
    return db.all(this.selectAll).map((row) => this.wireRow(row));
  }

  /** A stored row in wire form. */
  wireRow(row: SqlRow): WireRow {
    const wire: WireRow = {};
    for (const { column, storage, where } of this.columns) {
      wire[column.name] = toWire(storage, row[column.name] ?? null, where);
    }
    return wire;
  }

  /** The stored values of a wire row, in column order; a column the row leaves out is NULL. */
  storedRow(row: WireRow): SqlValue[] {
    return this.columns.map(({ column, storage, where }) => toStored(storage, row[column.name], where));
  }

  /** Insert `row` (wire form) or overwrite the row with its key. */
  upsert(db: SqliteAdapter, row: WireRow): void {
    const values = this.storedRow(row);
    try {
      db.run(this.upsertSql, values);
    } catch (cause) {
      throw new SyncClientError("database", `storing a row of \`${this.meta.name}\`: ${message(cause)}`, { cause });
    }
  }

  /** Insert or overwrite `rows` (wire form) in one statement: all of them, or none when it
   * fails (SQLite undoes the statement alone). Stored values go through JSON: text, integers and
   * NULL, which is all `storedRow` makes of a `batchable` table's row. */
  upsertMany(db: SqliteAdapter, rows: readonly WireRow[]): void {
    const values = JSON.stringify(rows.map((row) => this.storedRow(row)));
    try {
      db.run(this.upsertManySql, [values]);
    } catch (cause) {
      throw new SyncClientError("database", `storing ${rows.length} rows of \`${this.meta.name}\`: ${message(cause)}`, { cause });
    }
  }

  /** Delete the row with the stored key `key`. */
  delete(db: SqliteAdapter, key: readonly SqlValue[]): void {
    try {
      db.run(this.deleteSql, key);
    } catch (cause) {
      throw new SyncClientError("database", `deleting a row of \`${this.meta.name}\`: ${message(cause)}`, { cause });
    }
  }

  /** The stored key of a row or key in wire form. */
  storedKey(values: WireRow): SqlValue[] {
    return this.key.map(({ name, storage, where }) => toStored(storage, values[name], where));
  }

  /** The wire form of an outbox key. */
  wireKey(keyJson: string): WireRow {
    let stored: Record<string, WireValue>;
    try {
      stored = JSON.parse(keyJson) as Record<string, WireValue>;
    } catch (e) {
      throw new SyncClientError("database", `outbox key \`${keyJson}\` of \`${this.meta.name}\`: ${String(e)}`);
    }
    const key: WireRow = {};
    for (const { name, storage, where } of this.key) {
      const value = stored[name] ?? null;
      if (typeof value === "object" && value !== null) {
        throw new SyncClientError("database", `${where}: unexpected ${JSON.stringify(value)} in an outbox key`);
      }
      key[name] = toWire(storage, typeof value === "boolean" ? Number(value) : value, where);
    }
    return key;
  }

  /** The outbox entry of the row with the stored key `key`, if it has one. */
  pending(db: SqliteAdapter, key: readonly SqlValue[]): Pending | undefined {
    const row = db.get(this.pendingSql, key);
    return row && { key: row["key"] as string, deletedAt: (row["deleted_at"] as string | null) ?? null };
  }

  /** The outbox key of the stored key `key`. */
  keyJson(db: SqliteAdapter, key: readonly SqlValue[]): string {
    return db.get(this.keyJsonSql, key)?.["key"] as string;
  }
}

/** The plans of every synced table, in schema order (parents first). */
export function plans(db: SqliteAdapter, schema: SyncSchema): TablePlan[] {
  return schema.tables.map((table) => {
    const declared = new Map(
      db.all("SELECT name, type FROM pragma_table_info(?)", [table.name]).map((r) => [r["name"] as string, r["type"] as string]),
    );
    return new TablePlan(table, declared);
  });
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** One outbox entry, as read for a push. */
export interface Entry {
  table: string;
  key: string;
  seq: number;
  deletedAt: string | null;
}

/** `limit` outbox entries: those of the first table of `plans` (foreign key order) first, and
 * the oldest first within a table, so a child never goes in a request before its parent. */
export function outboxSql(tables: readonly TablePlan[]): string {
  const ranks = tables.map((plan, rank) => `WHEN ${literal(plan.meta.name)} THEN ${rank}`);
  return (
    `SELECT table_name, key, seq, deleted_at FROM _sync_outbox ` +
    `ORDER BY CASE table_name ${ranks.join(" ")} ELSE ${tables.length} END, seq LIMIT ?`
  );
}

export function readOutbox(db: SqliteAdapter, sql: string, limit: number): Entry[] {
  return db.all(sql, [limit]).map((row) => ({
    table: row["table_name"] as string,
    key: row["key"] as string,
    seq: Number(row["seq"]),
    deletedAt: (row["deleted_at"] as string | null) ?? null,
  }));
}
