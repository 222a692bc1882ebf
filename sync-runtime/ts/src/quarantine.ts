// The device's refused changes (`_sync_quarantine`): changes the server refused for good
// (reasons `constraint`, `too_large` and `forbidden`), kept with the verdict and the server's row
// while the device took the server's version. The app lists them, discards one, or retries one:
// the device's row is written back as a new local write (the app may edit it first), which the
// triggers record and the next sync pushes.

import type { SqliteAdapter } from "./adapter.js";
import { SyncClientError } from "./errors.js";
import type { TablePlan } from "./tables.js";
import { type WireRow, formatTimestamp } from "./values.js";

export interface QuarantinedChange {
  id: number;
  table: string;
  /** The row's primary key in wire form. */
  key: WireRow;
  op: "upsert" | "delete";
  /** The device's row as it was pushed (wire form); null for a delete. */
  localRow: WireRow | null;
  reason: string;
  constraint: string | null;
  kind: string | null;
  column: string | null;
  message: string;
  /** The server's row the device took instead; null when the server has none. */
  serverRow: WireRow | null;
  quarantinedAt: string;
}

/** One change to put in the quarantine, its rows in wire form. */
export interface Quarantining {
  table: string;
  keyJson: string;
  op: "upsert" | "delete";
  localRow: WireRow | undefined;
  reason: string;
  constraint: string | null;
  kind: string | null;
  column: string | null;
  message: string;
  serverRow: WireRow | undefined;
}

export function quarantineChange(db: SqliteAdapter, change: Quarantining): void {
  db.run(
    `INSERT INTO _sync_quarantine (table_name, key, op, local_row, reason, constraint_name, kind, column_name, message, server_row)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      change.table,
      change.keyJson,
      change.op,
      change.localRow ? JSON.stringify(change.localRow) : null,
      change.reason,
      change.constraint,
      change.kind,
      change.column,
      change.message,
      change.serverRow ? JSON.stringify(change.serverRow) : null,
    ],
  );
}

export function listQuarantine(db: SqliteAdapter, tables: ReadonlyMap<string, TablePlan>): QuarantinedChange[] {
  return db.all("SELECT * FROM _sync_quarantine ORDER BY id").map((r) => {
    const table = r["table_name"] as string;
    const plan = tables.get(table);
    const text = (v: unknown) => (typeof v === "string" ? v : null);
    const json = (v: unknown) => (typeof v === "string" ? (JSON.parse(v) as WireRow) : null);
    return {
      id: Number(r["id"]),
      table,
      key: plan ? plan.wireKey(r["key"] as string) : (JSON.parse(r["key"] as string) as WireRow),
      op: r["op"] as "upsert" | "delete",
      localRow: json(r["local_row"]),
      reason: r["reason"] as string,
      constraint: text(r["constraint_name"]),
      kind: text(r["kind"]),
      column: text(r["column_name"]),
      message: r["message"] as string,
      serverRow: json(r["server_row"]),
      quarantinedAt: r["quarantined_at"] as string,
    };
  });
}

export function quarantinedCount(db: SqliteAdapter): number {
  return Number(db.get("SELECT count(*) AS n FROM _sync_quarantine")?.["n"] ?? 0);
}

/** Forget a quarantined change: the device keeps the server's version. */
export function discard(db: SqliteAdapter, id: number): void {
  if (db.run("DELETE FROM _sync_quarantine WHERE id = ?", [id]) === 0) {
    throw new SyncClientError("database", `no quarantined change has the id ${id}`);
  }
}

/** Make a quarantined change again, as a new local write, and forget it: an upsert writes its
 * row with `changes` (the app's edit: the columns it holds replace the quarantined row's) and the
 * conflict time of now; a delete deletes the row. The outbox records it like any write. */
export function retry(db: SqliteAdapter, tables: ReadonlyMap<string, TablePlan>, id: number, changes: WireRow = {}): void {
  db.transaction(() => {
    const change = listQuarantine(db, tables).find((c) => c.id === id);
    if (!change) throw new SyncClientError("database", `no quarantined change has the id ${id}`);
    const plan = tables.get(change.table);
    if (!plan) throw new SyncClientError("database", `quarantined change ${id} names \`${change.table}\`, which this schema does not sync`);
    if (change.localRow) {
      const row = { ...change.localRow, ...changes };
      if (plan.meta.modified !== null) row[plan.meta.modified] = formatTimestamp(Date.now());
      plan.upsert(db, row);
    } else {
      plan.delete(db, plan.storedKey(change.key));
    }
    db.run("DELETE FROM _sync_quarantine WHERE id = ?", [id]);
  });
}
