//! Tombstone retention on Postgres (docs/server.md): old tombstones pruned in small batches, and
//! a pull refused with `resync_required` when its cursor is older than the history kept.
//!
//! What "older than the history kept" means with these cursors. A cursor is a transaction id `C`
//! (with, inside a page boundary, a position among `C`'s changes): the device has every change
//! of every transaction below `C`, and its next pull serves the changes with `_sync_xid >= C`
//! below the horizon ([`pull`](super::pull)). So a device still needs every tombstone with
//! `_sync_xid >= C`, and never one below `C`. The pruner records in `_sync_pruned.through` the
//! greatest `_sync_xid` it ever deleted, in the transaction that deletes it, so every tombstone
//! above `through` still exists:
//!
//! - `C > through`: everything the device still needs is kept; the pull is served.
//! - `C <= through`: a tombstone the device needs may be gone (one of transaction `through`
//!   itself after the cursor's position, or one of an older transaction pruned out of xid
//!   order, since pruning goes by age), unless no prune happened since the cursor was issued.
//!
//! That exception is what lets a pull from a null cursor (a resync, a new device) page through
//! rows older than `through`: its second page's cursor is usually below it. Every prune that
//! deletes a tombstone also adds one to `_sync_pruned.prunes`, in the same statement, and every
//! cursor carries the count read before its page's rows were read (`<position>~<count>`,
//! [`crate::store::retention::tag`]). A cursor issued when the count was `N` was computed from
//! rows read after `N` was read, so from tombstones that existed then; while the count is still
//! `N`, no prune committed since, and every one of those tombstones that the device still needs
//! still exists. The check reads the count after the page was read: in READ COMMITTED each
//! statement sees what committed before it started, so a prune that removed a tombstone before
//! the page's queries read the table had committed its count (and its `through`) before the
//! check reads them. Hence:
//!
//! - `C <= through` and the cursor's count is the current count: served.
//! - `C <= through` and the count differs, or the cursor has none (issued before the count
//!   existed): the request is refused with `resync_required` and the device pulls everything
//!   again from a null cursor, which needs no tombstone at all.
//!
//! No device therefore misses a deletion silently; at worst one is told to resync when it did
//! not strictly need to.
//!
//! Only tombstones below the pull horizon are pruned, those of transactions that have ended, and
//! only when their `deleted_at` (the deleting transaction's start) is older than the window. A
//! device that pulled after a deletion's transaction ended has a cursor above it, so pruning it
//! never troubles a device that synced since; the window is how long a device may stay away.
//! Several instances may prune at once: each takes its batch with `FOR UPDATE SKIP LOCKED`, and
//! `through` only ever grows (`greatest`) and the count only ever rises, whatever order they
//! commit in.

use std::time::Duration;

use deadpool_postgres::Object;
use tokio_postgres::types::Type;

use super::store_error;
use crate::store::StoreError;
use crate::store::retention::untag;

/// Delete at most `batch` tombstones older than `older_than` and below the horizon, in one
/// statement (its own transaction), raising `_sync_pruned.through` to the greatest `_sync_xid`
/// deleted and counting one prune if any was; returns how many were deleted.
pub(super) async fn prune(
    client: &Object,
    older_than: Duration,
    batch: usize,
) -> Result<usize, StoreError> {
    const PRUNE: &str = "WITH doomed AS ( \
           SELECT ctid FROM _sync_tombstone \
            WHERE deleted_at < now() - make_interval(secs => $1) \
              AND _sync_xid < (SELECT horizon FROM _sync_horizon()) \
            ORDER BY deleted_at LIMIT $2 FOR UPDATE SKIP LOCKED), \
         gone AS ( \
           DELETE FROM _sync_tombstone WHERE ctid = ANY (ARRAY(SELECT ctid FROM doomed)) \
           RETURNING _sync_xid), \
         marked AS ( \
           UPDATE _sync_pruned SET through = greatest(through, (SELECT max(_sync_xid) FROM gone)), \
                  prunes = prunes + 1 \
            WHERE EXISTS (SELECT FROM gone)) \
         SELECT count(*) FROM gone";
    let seconds = older_than.as_secs_f64();
    let batch = i64::try_from(batch).unwrap_or(i64::MAX);
    let row = client
        .query_typed_one(PRUNE, &[(&seconds, Type::FLOAT8), (&batch, Type::INT8)])
        .await
        .map_err(store_error)?;
    Ok(usize::try_from(row.get::<_, i64>(0)).unwrap_or(0))
}

/// Refuse a pull from `cursor` with [`StoreError::ResyncRequired`] when tombstones it still
/// needs may have been pruned (see the module's comment). Runs after the page was read, in the
/// pull's transaction, so the request writes nothing.
pub(super) async fn check(client: &Object, cursor: Option<&str>) -> Result<(), StoreError> {
    let Some(cursor) = cursor else { return Ok(()) };
    let (position, count) = untag(cursor);
    // The page was read from this cursor, so it parsed: its transaction id comes first.
    let xid = position.split(':').next().unwrap_or(position);
    let rows = client
        .query_typed(
            "SELECT $1::text::xid8 <= through, prunes FROM _sync_pruned",
            &[(&xid, Type::TEXT)],
        )
        .await
        .map_err(store_error)?;
    let older = |r: &tokio_postgres::Row| r.get::<_, Option<bool>>(0) == Some(true);
    if rows.iter().any(|r| older(r) && count != Some(r.get::<_, i64>(1))) {
        return Err(StoreError::ResyncRequired(cursor.to_owned()));
    }
    Ok(())
}

/// What a database made by a release before tombstone retention (or before its prune count)
/// lacks, with the statements that bring it up to date (docs/server.md), or `None` when it has
/// everything.
pub(super) async fn missing(client: &Object) -> Result<Option<String>, StoreError> {
    let row = client
        .query_typed_one(
            "SELECT count(*) = 2 FROM pg_attribute WHERE NOT attisdropped AND \
             ((attrelid = to_regclass('_sync_tombstone') AND attname = 'deleted_at') OR \
              (attrelid = to_regclass('_sync_pruned') AND attname = 'prunes'))",
            &[],
        )
        .await
        .map_err(store_error)?;
    if row.get::<_, bool>(0) {
        return Ok(None);
    }
    Ok(Some(UPGRADE.to_owned()))
}

/// The statements that add tombstone retention to a database made before it existed, or its
/// prune count to one made before that; the same objects as `generated/sql/postgres.sql`
/// (docs/server.md). Each is a no-op where its object exists.
const UPGRADE: &str = "the database lacks tombstone retention (_sync_tombstone.deleted_at, \
     _sync_pruned and its prunes column), which this release of the sync machinery needs; run: \
     ALTER TABLE _sync_tombstone ADD COLUMN IF NOT EXISTS deleted_at timestamptz NOT NULL \
     DEFAULT now(); \
     CREATE INDEX IF NOT EXISTS _sync_tombstone_age_idx ON _sync_tombstone (deleted_at); \
     CREATE TABLE IF NOT EXISTS _sync_pruned (id boolean PRIMARY KEY DEFAULT true CHECK (id), \
     through xid8); \
     ALTER TABLE _sync_pruned ADD COLUMN IF NOT EXISTS prunes bigint NOT NULL DEFAULT 0; \
     INSERT INTO _sync_pruned DEFAULT VALUES ON CONFLICT DO NOTHING;";
