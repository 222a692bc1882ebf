// Starting over after `resync_required` (docs/sync.md), as the Rust client's resync.rs: the
// server pruned deletions the device has not pulled, so the device pulls everything again and
// then drops what the server no longer has.
//
// `beginResync` forgets the cursor and lists every local row of a synced table in
// `_sync_resync`, in one transaction. Each applied page takes off that list the rows the server
// served (stored or deleted) and the rows whose pushed writes it acknowledged; the outbox and the
// quarantine stay as they are. The page that ends the full pull (`has_more` false) removes, in
// its own transaction, the listed rows that are still there and have no pending local write: the
// server did not serve them, so they are gone from it (or the user may no longer read them).
// Every step commits with the page it belongs to, so a crash anywhere resumes where it stopped:
// the list and the cursor move together.

import type { SqliteAdapter } from "./adapter.js";
import { type TablePlan, ident, literal } from "./tables.js";

/** Forget the cursor and list every local row as not yet served, in one transaction. A resync
 * that was already under way starts over: what it had served is listed again. */
export function beginResync(db: SqliteAdapter, plans: Iterable<TablePlan>): void {
  db.transaction(() => {
    db.run("DELETE FROM _sync_resync");
    for (const plan of plans) {
      db.run(
        `INSERT INTO _sync_resync (table_name, key) SELECT ${literal(plan.meta.name)}, ${plan.rowKeyObject} FROM ${ident(plan.meta.name)}`,
      );
    }
    db.run("UPDATE _sync_client SET cursor = NULL");
  });
}

/** Whether a resync is under way: rows are listed that the full pull has not served yet. */
export function resyncUnderWay(db: SqliteAdapter): boolean {
  return db.get("SELECT EXISTS (SELECT 1 FROM _sync_resync) AS any")?.["any"] === 1;
}

/** Take the row of `table` with outbox key `keyJson` off the list: the server has it (or
 * removed it). */
export function resyncServed(db: SqliteAdapter, table: string, keyJson: string): void {
  db.run("DELETE FROM _sync_resync WHERE table_name = ? AND key = ?", [table, keyJson]);
}

/** End the resync: delete the listed rows that are still there and have no pending local
 * write, and empty the list. Returns how many rows were deleted. */
export function finishResync(db: SqliteAdapter, plans: Iterable<TablePlan>): number {
  let deleted = 0;
  for (const plan of plans) {
    const label = literal(plan.meta.name);
    deleted += db.run(
      `DELETE FROM ${ident(plan.meta.name)} WHERE ${plan.rowKeyObject} IN (SELECT key FROM _sync_resync WHERE table_name = ${label} ` +
        `EXCEPT SELECT key FROM _sync_outbox WHERE table_name = ${label})`,
    );
  }
  db.run("DELETE FROM _sync_resync");
  return deleted;
}
