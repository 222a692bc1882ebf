// Applying a sync response to the device's database in one SQLite transaction (docs/sync.md),
// the same way as the Rust client (sync-runtime/src/client/apply.rs).
//
// The transaction deletes exactly the outbox entries that were sent and that no local write has
// changed since (their `seq` is the one that was read), handles what the server refused, applies
// what it sent, and stores the new cursor. While it applies, `_sync_client.applying` is set, so
// the outbox triggers do not record pulled rows as local writes; foreign keys are off, since a
// page may hold a child before its parent. A pulled row replaces a pending local write of the
// same row only if it is newer by the server's own rule: the greater `(modified, device)`, the
// local write counting as this device's. A deletion the server made by another path always
// applies. A pulled row that a local row's unique key blocks makes room for itself (src/unique.ts).
// Pulled rows are stored many to a statement where they can be (src/batch.ts). During a resync
// (src/resync.ts), every row served and every write acknowledged comes off the resync list, and
// the page that ends the full pull removes what is left on it.

import type { SqlValue, SqliteAdapter } from "./adapter.js";
import { SyncClientError } from "./errors.js";
import type { PushChange, Rejected, SyncResponse } from "./protocol.js";
import { UpsertBatch } from "./batch.js";
import { quarantineChange } from "./quarantine.js";
import { finishResync, resyncServed, resyncUnderWay } from "./resync.js";
import { makeRoom, uniqueClash } from "./unique.js";
import type { Entry, Pending, TablePlan } from "./tables.js";
import { type WireRow, parseTimestamp } from "./values.js";

/** What one applied response changed locally. */
export interface Applied {
  /** Outbox entries acknowledged and removed. */
  acknowledged: number;
  /** Pulled rows stored, and refused changes replaced by the server's row. */
  stored: number;
  /** Rows deleted locally. */
  deleted: number;
  /** Pulled changes skipped because a newer local write of the row is pending. */
  keptLocal: number;
  /** Refused changes put in quarantine, and pending local rows a pulled row's unique key
   * displaced into it. */
  quarantined: number;
}

export function emptyApplied(): Applied {
  return { acknowledged: 0, stored: 0, deleted: 0, keptLocal: 0, quarantined: 0 };
}

/** One sent outbox entry with the change it became (none when its row was gone). */
export interface Sent {
  entry: Entry;
  change: PushChange | undefined;
}

/** Apply `response`, the answer to a request that pushed `sent`, as device `clientId`. */
export function apply(
  db: SqliteAdapter,
  tables: ReadonlyMap<string, TablePlan>,
  clientId: string,
  sent: readonly Sent[],
  response: SyncResponse,
): Applied {
  // `foreign_keys` cannot change inside a transaction; it is switched back on whatever happens.
  db.exec("PRAGMA foreign_keys = OFF");
  try {
    return db.transaction(() => new Applier(db, tables, clientId).run(sent, response));
  } finally {
    db.exec("PRAGMA foreign_keys = ON");
  }
}

/** The reasons that put a change in the quarantine: the server would refuse it again as it is.
 * (`stale` is last write wins doing its job; `clock_skew` is sent again later.) */
const FINAL: ReadonlySet<string> = new Set(["constraint", "too_large", "forbidden"]);

class Applier {
  private pending = false;
  /** Whether a resync is under way: served rows come off its list. */
  private resyncing = false;
  readonly applied = emptyApplied();
  /** Pulled rows to store, flushed before any other write to a synced table. */
  private readonly batch: UpsertBatch;

  constructor(
    private readonly db: SqliteAdapter,
    private readonly tables: ReadonlyMap<string, TablePlan>,
    private readonly clientId: string,
  ) {
    this.batch = new UpsertBatch(db, (plan, row) => this.store(plan, row));
  }

  run(sent: readonly Sent[], response: SyncResponse): Applied {
    const db = this.db;
    db.run("UPDATE _sync_client SET applying = 1");
    this.resyncing = resyncUnderWay(db);
    // A change refused for a clock too far ahead is sent again: in time the server accepts it.
    const retry = new Set<string>();
    for (const rejected of response.rejected) {
      if (rejected.reason !== "clock_skew") continue;
      const plan = this.plan(rejected.table);
      retry.add(`${rejected.table}\u0000${plan.keyJson(db, plan.storedKey(rejected.key))}`);
    }
    for (const { entry } of sent) {
      if (retry.has(`${entry.table}\u0000${entry.key}`)) continue;
      const acknowledged = db.run(
        "DELETE FROM _sync_outbox WHERE table_name = ? AND key = ? AND seq = ?",
        [entry.table, entry.key, entry.seq],
      );
      // The server has the row now (or removed it), though this pull may not serve it.
      if (this.resyncing && acknowledged > 0) resyncServed(db, entry.table, entry.key);
      this.applied.acknowledged += acknowledged;
    }
    this.pending = this.outboxHasEntries();

    for (const rejected of response.rejected) {
      if (rejected.reason === "clock_skew") continue;
      const plan = this.plan(rejected.table);
      if (FINAL.has(rejected.reason)) {
        if (!this.quarantine(plan, rejected, sent)) continue;
        this.applied.quarantined += 1;
      }
      if (rejected.server_row) this.row(plan, rejected.server_row);
      else this.removed(plan, rejected.key);
    }
    for (const change of response.changes) {
      const plan = this.plan(change.table);
      if ("row" in change) this.row(plan, change.row);
      else this.removed(plan, change.key);
    }
    this.batch.flush();
    if (this.resyncing && !response.has_more) this.applied.deleted += finishResync(db, this.tables.values());
    db.run("UPDATE _sync_client SET cursor = ?, applying = 0", [response.cursor]);
    return this.applied;
  }

  private plan(table: string): TablePlan {
    const plan = this.tables.get(table);
    if (!plan) {
      throw new SyncClientError(
        "protocol",
        `the server sent a change of table \`${table}\`, which this client does not sync`,
      );
    }
    return plan;
  }

  /** Keep the device's version of a change refused for good, with the verdict and the
   * server's row, for the app. False when a newer local write of the row is pending: that write
   * supersedes the refused one and is pushed next, so nothing is kept. */
  private quarantine(plan: TablePlan, rejected: Rejected, sent: readonly Sent[]): boolean {
    const key = plan.storedKey(rejected.key);
    if (plan.pending(this.db, key)) return false;
    const keyJson = plan.keyJson(this.db, key);
    const entry = sent.find((s) => s.entry.table === rejected.table && s.entry.key === keyJson)?.entry;
    const deleted = entry !== undefined && entry.deletedAt !== null;
    const localRow = deleted ? undefined : plan.read(this.db, keyJson);
    quarantineChange(this.db, {
      table: rejected.table,
      keyJson,
      op: deleted ? "delete" : "upsert",
      localRow,
      reason: rejected.reason,
      constraint: rejected.constraint ?? null,
      kind: rejected.kind ?? null,
      column: rejected.column ?? null,
      message: rejected.message,
      serverRow: rejected.server_row ?? undefined,
    });
    return true;
  }

  /** Store a row the server sent, or delete it when it is soft-deleted, unless a newer local
   * write of it is pending. */
  private row(plan: TablePlan, row: WireRow): void {
    const key = plan.storedKey(row);
    this.served(plan, key);
    if (this.pending) {
      const local = plan.pending(this.db, key);
      if (local) {
        if (this.localIsNewer(plan, local, row)) {
          this.applied.keptLocal += 1;
          return;
        }
        this.forget(plan, local.key);
      }
    }
    const deleted = plan.meta.deleted;
    if (deleted !== null && row[deleted] === true) {
      this.batch.flush();
      plan.delete(this.db, key);
      this.applied.deleted += 1;
    } else {
      this.batch.add(plan, row);
      this.applied.stored += 1;
    }
  }

  /** Store a pulled row; when a local row holds its values of a unique key, make room
   * (src/unique.ts) and store it again, once for each unique key it breaks. */
  private store(plan: TablePlan, row: WireRow): void {
    for (;;) {
      try {
        plan.upsert(this.db, row);
        return;
      } catch (error) {
        const clash = uniqueClash(this.db, plan, error);
        const room = clash && makeRoom(this.db, plan, row, clash);
        if (!room || room.removed === 0) throw error;
        this.applied.quarantined += room.quarantined;
        this.applied.deleted += room.removed - room.quarantined;
        this.pending = this.outboxHasEntries();
      }
    }
  }

  /** Delete a row the server removed, pending local write or not. */
  private removed(plan: TablePlan, wireKey: WireRow): void {
    this.batch.flush();
    const key = plan.storedKey(wireKey);
    this.served(plan, key);
    if (this.pending) {
      const local = plan.pending(this.db, key);
      if (local) this.forget(plan, local.key);
    }
    plan.delete(this.db, key);
    this.applied.deleted += 1;
  }

  /** Take a row the server sent off the resync list, when a resync is under way. */
  private served(plan: TablePlan, key: readonly SqlValue[]): void {
    if (this.resyncing) resyncServed(this.db, plan.meta.name, plan.keyJson(this.db, key));
  }

  /** Whether the pending local write `local` wins over the server's `row` by the server's rule. */
  private localIsNewer(plan: TablePlan, local: Pending, row: WireRow): boolean {
    const modified = plan.meta.modified;
    if (modified === null) return false;
    const localText = local.deletedAt ?? plan.read(this.db, local.key)?.[modified];
    const localTime = typeof localText === "string" ? parseTimestamp(localText) : NaN;
    if (Number.isNaN(localTime)) return false;
    const theirsText = row[modified];
    const parsed = typeof theirsText === "string" ? parseTimestamp(theirsText) : NaN;
    const theirsTime = Number.isNaN(parsed) ? -Infinity : parsed;
    if (localTime !== theirsTime || plan.meta.device === null) return localTime > theirsTime;
    // Equal times: the greater device id wins; a row without one loses to any.
    const theirsDevice = row[plan.meta.device];
    return typeof theirsDevice !== "string" || this.clientId > theirsDevice;
  }

  /** Drop the outbox entry of a local write the server's row replaces. */
  private forget(plan: TablePlan, keyJson: string): void {
    this.db.run("DELETE FROM _sync_outbox WHERE table_name = ? AND key = ?", [plan.meta.name, keyJson]);
    this.pending = this.outboxHasEntries();
  }

  private outboxHasEntries(): boolean {
    return this.db.get("SELECT EXISTS (SELECT 1 FROM _sync_outbox) AS any")?.["any"] === 1;
  }
}
