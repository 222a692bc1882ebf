//! Starting over after `resync_required` (docs/sync.md): the server pruned deletions the device
//! has not pulled, so the device pulls everything again and then drops what the server no
//! longer has.
//!
//! [`begin`] forgets the cursor and lists every local row of a synced table in `_sync_resync`,
//! in one transaction. Each applied page takes off that list the rows the server served (stored
//! or deleted) and the rows whose pushed writes it acknowledged; the outbox and the quarantine
//! stay as they are. The page that ends the full pull (`has_more` false) removes, in its own
//! transaction, the listed rows that are still there and have no pending local write: the server
//! did not serve them, so they are gone from it (or the user may no longer read them). Every
//! step commits with the page it belongs to, so a crash anywhere resumes where it stopped: the
//! list and the cursor move together.

use rusqlite::{Connection, TransactionBehavior};

use super::ClientError;
use super::local::{TablePlan, db};
use crate::sql::{quote_ident as ident, quote_literal as literal};

/// Forget the cursor and list every local row as not yet served, in one transaction. A resync
/// that was already under way starts over: what it had served is listed again.
pub(super) fn begin(conn: &mut Connection, plans: &[TablePlan]) -> Result<(), ClientError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db("starting a resync"))?;
    tx.execute("DELETE FROM _sync_resync", []).map_err(db("starting a resync"))?;
    for plan in plans {
        let sql = format!(
            "INSERT INTO _sync_resync (table_name, key) SELECT {}, {} FROM {}",
            literal(plan.meta.name),
            key_object(plan),
            ident(plan.meta.name)
        );
        tx.execute(&sql, []).map_err(db(&format!("listing the rows of `{}`", plan.meta.name)))?;
    }
    tx.execute("UPDATE _sync_client SET cursor = NULL", []).map_err(db("forgetting the cursor"))?;
    tx.commit().map_err(db("starting a resync"))
}

/// Whether a resync is under way: rows are listed that the full pull has not served yet.
pub(super) fn under_way(conn: &Connection) -> Result<bool, ClientError> {
    conn.query_row("SELECT EXISTS (SELECT 1 FROM _sync_resync)", [], |row| row.get(0))
        .map_err(db("reading the resync list"))
}

/// Take the row of `table` with outbox key `key_json` off the list: the server has it (or
/// removed it).
pub(super) fn served(conn: &Connection, table: &str, key_json: &str) -> Result<(), ClientError> {
    let mut statement = conn
        .prepare_cached("DELETE FROM _sync_resync WHERE table_name = ?1 AND key = ?2")
        .map_err(db("updating the resync list"))?;
    statement.execute((table, key_json)).map(drop).map_err(db("updating the resync list"))
}

/// End the resync: delete the listed rows that are still there and have no pending local write,
/// and empty the list. Returns how many rows were deleted.
pub(super) fn finish(conn: &Connection, plans: &[TablePlan]) -> Result<usize, ClientError> {
    let mut deleted = 0;
    for plan in plans {
        let sql = format!(
            "DELETE FROM {name} WHERE {key} IN (SELECT key FROM _sync_resync WHERE table_name = \
             {label} EXCEPT SELECT key FROM _sync_outbox WHERE table_name = {label})",
            name = ident(plan.meta.name),
            key = key_object(plan),
            label = literal(plan.meta.name),
        );
        deleted += conn.execute(&sql, []).map_err(db(&format!(
            "removing rows of `{}` the server no longer has",
            plan.meta.name
        )))?;
    }
    conn.execute("DELETE FROM _sync_resync", []).map_err(db("ending a resync"))?;
    Ok(deleted)
}

/// `json_object(...)` of a row's stored key columns: the outbox's form of its key, as the
/// generated triggers write it.
fn key_object(plan: &TablePlan) -> String {
    let pairs: Vec<String> =
        plan.meta.primary_key.iter().map(|k| format!("{}, {}", literal(k), ident(k))).collect();
    format!("json_object({})", pairs.join(", "))
}
