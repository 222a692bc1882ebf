// Making room for a pulled row that a local row's unique key blocks (docs/typescript-client.md),
// the same rule as the Rust client's: when storing a row the server sent fails with a UNIQUE
// constraint, the live local rows other than it that hold its values in the key's columns give
// way. One with a pending local write was never accepted by the server, which already has a row
// with these values: it goes to the quarantine (kind `unique`) and leaves the outbox. One without
// is a stale copy of a row the server has changed since: it is deleted, and a later page brings
// the server's version.

import type { SqlValue, SqliteAdapter } from "./adapter.js";
import { quarantineChange } from "./quarantine.js";
import { type TablePlan, ident } from "./tables.js";
import type { WireRow } from "./values.js";

/** The unique key a failed store broke: its columns, and its name when SQLite knows one. */
export interface UniqueClash {
  columns: string[];
  constraint: string | null;
}

/** The unique key of `plan`'s table that `error` (from storing a row) says was broken, or
 * undefined when `error` is not a UNIQUE constraint failure naming its columns. better-sqlite3
 * sets `code` to `SQLITE_CONSTRAINT_UNIQUE`, sqlite-wasm `resultCode` to 2067; both carry
 * SQLite's message `UNIQUE constraint failed: t.a, t.b`. */
export function uniqueClash(db: SqliteAdapter, plan: TablePlan, error: unknown): UniqueClash | undefined {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  if (!(cause instanceof Error)) return undefined;
  const { code, resultCode } = cause as { code?: unknown; resultCode?: unknown };
  const found = /UNIQUE constraint failed: (.+)$/m.exec(cause.message);
  const unique = code === "SQLITE_CONSTRAINT_UNIQUE" || resultCode === 2067 || found !== null;
  if (!unique || !found?.[1]) return undefined;
  const prefix = `${plan.meta.name}.`;
  const columns = found[1].split(", ").map((c) => (c.startsWith(prefix) ? c.slice(prefix.length) : c));
  const known = new Set(plan.columns.map((c) => c.column.name));
  if (!columns.every((c) => known.has(c))) return undefined;
  return { columns, constraint: indexName(db, plan.meta.name, columns) };
}

/** The name of the unique key of `table` over exactly `columns`: a unique index's, or a table
 * constraint's as the generated DDL writes it (`CONSTRAINT "name" UNIQUE ("a", "b")`, whose
 * index SQLite names `sqlite_autoindex_*`); null when neither is found. */
function indexName(db: SqliteAdapter, table: string, columns: readonly string[]): string | null {
  for (const index of db.all("SELECT name FROM pragma_index_list(?) WHERE \"unique\" = 1", [table])) {
    const name = index["name"] as string;
    const of = db.all("SELECT name FROM pragma_index_info(?) ORDER BY seqno", [name]).map((c) => c["name"]);
    if (of.length === columns.length && of.every((c, i) => c === columns[i])) {
      if (!name.startsWith("sqlite_autoindex_")) return name;
      const sql = db.get("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [table])?.["sql"];
      const list = columns.map(ident).join(", ").replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      const found = new RegExp(`CONSTRAINT "((?:[^"]|"")+)" UNIQUE \\(${list}\\)`).exec(String(sql ?? ""));
      return found?.[1] ? found[1].replaceAll('""', '"') : null;
    }
  }
  return null;
}

/** Remove the live local rows other than `row` that hold `row`'s values of `clash`'s columns:
 * quarantined when they have an outbox entry (which goes), deleted when not. Runs inside the
 * apply's transaction, triggers silenced. The number quarantined and the number removed in all. */
export function makeRoom(
  db: SqliteAdapter,
  plan: TablePlan,
  row: WireRow,
  clash: UniqueClash,
): { quarantined: number; removed: number } {
  const stored = plan.storedRow(row);
  const valueOf = (name: string): SqlValue => stored[plan.columns.findIndex((c) => c.column.name === name)] ?? null;
  const where = clash.columns.map((c) => `${ident(c)} = ?`);
  where.push(`NOT (${plan.key.map((k) => `${ident(k.name)} IS ?`).join(" AND ")})`);
  if (plan.meta.deleted !== null) where.push(`${ident(plan.meta.deleted)} = 0`);
  const sql = `SELECT ${plan.columns.map((c) => ident(c.column.name)).join(", ")} FROM ${ident(plan.meta.name)} WHERE ${where.join(" AND ")}`;
  const params = [...clash.columns.map(valueOf), ...plan.key.map((k) => valueOf(k.name))];
  let quarantined = 0;
  const holders = db.all(sql, params).map((r) => plan.wireRow(r));
  for (const holder of holders) {
    const key = plan.storedKey(holder);
    const pending = plan.pending(db, key);
    if (pending) {
      quarantineChange(db, {
        table: plan.meta.name,
        keyJson: pending.key,
        op: "upsert",
        localRow: holder,
        reason: "constraint",
        constraint: clash.constraint,
        kind: "unique",
        column: clash.columns.length === 1 ? (clash.columns[0] ?? null) : null,
        message:
          `\`${plan.meta.name}\` already has a row with these values of (${clash.columns.join(", ")}) on the server; ` +
          "this device's row was not pushed",
        serverRow: undefined,
      });
      db.run("DELETE FROM _sync_outbox WHERE table_name = ? AND key = ?", [plan.meta.name, pending.key]);
      quarantined += 1;
    }
    plan.delete(db, key);
  }
  return { quarantined, removed: holders.length };
}
