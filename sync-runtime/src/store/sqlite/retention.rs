//! Tombstone retention on the embedded store (docs/server.md): old tombstones pruned in small
//! batches, and a pull refused with `resync_required` when its cursor is older than the history
//! kept.
//!
//! A cursor `s<N>` means the device has every change at or below counter value `N` and its next
//! pull serves those above it, so it still needs every tombstone with `_sync_seq > N`. The
//! pruner records in `_sync_pruned.through` the greatest `_sync_seq` it ever deleted, in the
//! transaction that deletes it; every tombstone above `through` is kept. A cursor with
//! `N >= through` is served; one with `N < through` may miss a deletion, unless no prune
//! happened since it was issued. Every prune that deletes a tombstone adds one to
//! `_sync_pruned.prunes` in its transaction, and every cursor carries the count read in the
//! transaction of its page (`s<N>~<count>`, [`crate::store::retention::tag`]): while the count
//! is unchanged, every tombstone that existed when the cursor was issued still exists, so the
//! pull is served (this lets a pull from a null cursor page through old rows). One whose count
//! differs, or that has none (issued before the count existed), is refused, and the device pulls
//! everything again. Transactions take turns on this store, so a pull and a prune never
//! interleave.

use std::time::Duration;

use chrono::Utc;
use rusqlite::{Connection, params};

use super::error::sqlite;
use crate::store::StoreError;
use crate::store::retention::untag;

/// Delete at most `batch` tombstones recorded more than `older_than` ago, oldest first, and
/// raise `_sync_pruned.through` to the greatest `_sync_seq` deleted and count one prune if any
/// was, in one transaction; returns how many were deleted.
pub(super) fn prune(
    conn: &mut Connection,
    older_than: Duration,
    batch: usize,
) -> Result<usize, StoreError> {
    let older_than = chrono::Duration::from_std(older_than).unwrap_or(chrono::Duration::MAX);
    let cutoff = Utc::now()
        .checked_sub_signed(older_than)
        .map_or_else(String::new, |t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string());
    let batch = i64::try_from(batch).unwrap_or(i64::MAX);
    let doing = "pruning old tombstones";
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate);
    let tx = tx.map_err(|e| sqlite(doing, e))?;
    // Both statements pick the same rows: one transaction, a total order.
    const DOOMED: &str = "SELECT _sync_seq FROM _sync_tombstone WHERE deleted_at < ?1 \
                          ORDER BY deleted_at, _sync_seq LIMIT ?2";
    tx.execute(
        &format!(
            "UPDATE _sync_pruned SET through = max(through, \
             coalesce((SELECT max(_sync_seq) FROM ({DOOMED})), 0))"
        ),
        params![cutoff, batch],
    )
    .map_err(|e| sqlite(doing, e))?;
    let deleted = tx
        .execute(
            &format!("DELETE FROM _sync_tombstone WHERE _sync_seq IN ({DOOMED})"),
            params![cutoff, batch],
        )
        .map_err(|e| sqlite(doing, e))?;
    if deleted > 0 {
        tx.execute("UPDATE _sync_pruned SET prunes = prunes + 1", [])
            .map_err(|e| sqlite(doing, e))?;
    }
    tx.commit().map_err(|e| sqlite(doing, e))?;
    Ok(deleted)
}

/// How many prunes deleted a tombstone so far: what the cursors of a page read now carry.
pub(super) fn prunes(conn: &Connection) -> Result<i64, StoreError> {
    conn.prepare_cached("SELECT coalesce(max(prunes), 0) FROM _sync_pruned")
        .and_then(|mut statement| statement.query_row([], |row| row.get(0)))
        .map_err(|e| sqlite("reading how often tombstones were pruned", e))
}

/// Refuse a pull from `cursor` with [`StoreError::ResyncRequired`] when tombstones it still
/// needs may have been pruned (see the module's comment).
pub(super) fn check(conn: &Connection, cursor: Option<&str>) -> Result<(), StoreError> {
    let Some(cursor) = cursor else { return Ok(()) };
    let (position, count) = untag(cursor);
    // The page was read from this cursor, so it parsed.
    let at: i64 = position.trim_start_matches('s').parse().unwrap_or(0);
    let (through, prunes): (i64, i64) = conn
        .prepare_cached(
            "SELECT coalesce(max(through), 0), coalesce(max(prunes), 0) FROM _sync_pruned",
        )
        .and_then(|mut statement| statement.query_row([], |row| Ok((row.get(0)?, row.get(1)?))))
        .map_err(|e| sqlite("reading how far tombstones were pruned", e))?;
    if at < through && count != Some(prunes) {
        return Err(StoreError::ResyncRequired(cursor.to_owned()));
    }
    Ok(())
}

/// Whether the database has the machinery of tombstone retention (a file made by an earlier
/// release has not); `open` refuses one without it, saying so.
pub(super) fn present(conn: &Connection) -> Result<bool, StoreError> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sync_pruned') \
         AND EXISTS (SELECT 1 FROM pragma_table_info('_sync_tombstone') WHERE name = 'deleted_at') \
         AND EXISTS (SELECT 1 FROM pragma_table_info('_sync_pruned') WHERE name = 'prunes')",
        [],
        |row| row.get(0),
    )
    .map_err(|e| sqlite("looking for the tombstone retention machinery", e))
}
