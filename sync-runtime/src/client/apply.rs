//! Applying a sync response to the device's database, in one SQLite transaction (docs/sync.md).
//!
//! The transaction deletes exactly the outbox entries that were sent and that no local write has
//! changed since (their `seq` is the one that was read), applies what the server refused back
//! (its current row, after keeping the device's version of a change refused for good in the
//! [quarantine](super::quarantine)) and what it sent (rows and deletions), and stores the new cursor. A crash at
//! any point leaves either all of that or none of it: the entries are still there and are sent
//! again (an equal resend is a no-op on the server), and the cursor still points before the
//! page, which is pulled again.
//!
//! During a [resync](super::resync), every row served and every write acknowledged comes off the
//! resync list, and the page that ends the full pull removes what is left on it.
//!
//! While it applies, `_sync_client.applying` is set, so the generated outbox triggers do not
//! record pulled rows as local writes. Foreign keys are not enforced while applying: the device
//! mirrors what the server has, in the server's order, and a page may hold a child before its
//! parent (a parent written after its child comes later in commit order) or a row whose parent the
//! user may not read. A pulled deletion therefore never cascades locally either: the server sends
//! the deletion of every row it removed.
//!
//! A pulled row meets a pending local write of the same row (one made while the request was in
//! flight, or one not sent yet) only if the server's row is newer by the server's own rule: the
//! greater `(modified, device)`, the local write counting as this device's. Otherwise the local
//! write stays and is pushed next time, where the server decides the same way. A deletion the
//! server made by another path (an admin's, a cascade) has no conflict time and always applies.

use chrono::{DateTime, Utc};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, TransactionBehavior};
use serde_json::Value;

use super::ClientError;
use super::local::{Entry, TablePlan, db};
use super::{quarantine, resync};
use crate::protocol::{Key, PulledChange, RejectReason, SyncResponse};
use crate::wire::parse_timestamp;

/// What one applied response changed locally.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    /// Outbox entries acknowledged and removed.
    pub acknowledged: usize,
    /// Pulled rows stored, and rejected changes replaced by the server's row.
    pub stored: usize,
    /// Rows deleted locally.
    pub deleted: usize,
    /// Pulled changes skipped because a newer local write of the row is pending.
    pub kept_local: usize,
    /// Refused changes put in the quarantine.
    pub quarantined: usize,
}

/// Apply `response`, the answer to a request that pushed `sent`, as device `client_id`.
pub(super) fn apply(
    conn: &mut Connection,
    plans: &[TablePlan],
    client_id: &str,
    sent: &[Entry],
    response: SyncResponse,
) -> Result<Applied, ClientError> {
    // `foreign_keys` cannot change inside a transaction; it is switched back on whatever happens.
    conn.pragma_update(None, "foreign_keys", "OFF").map_err(db("pausing foreign keys"))?;
    let result = apply_in_transaction(conn, plans, client_id, sent, response);
    conn.pragma_update(None, "foreign_keys", "ON").map_err(db("enforcing foreign keys again"))?;
    result
}

fn apply_in_transaction(
    conn: &mut Connection,
    plans: &[TablePlan],
    client_id: &str,
    sent: &[Entry],
    response: SyncResponse,
) -> Result<Applied, ClientError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db("starting to apply a sync"))?;
    tx.execute("UPDATE _sync_client SET applying = 1", []).map_err(db("silencing the outbox"))?;
    let resyncing = resync::under_way(&tx)?;
    let applier = Applier { conn: &tx, plans, client_id, resyncing };
    let mut applied = Applied::default();

    // A change refused for a clock too far ahead is sent again: in time the server accepts it.
    let mut retry = Vec::new();
    for rejected in response.rejected.iter().filter(|r| r.reason == RejectReason::ClockSkew) {
        let plan = applier.plan(&rejected.table)?;
        retry
            .push((rejected.table.as_str(), plan.key_json(&tx, &plan.stored_key(&rejected.key)?)?));
    }
    {
        let mut acknowledge = tx
            .prepare("DELETE FROM _sync_outbox WHERE table_name = ?1 AND key = ?2 AND seq = ?3")
            .map_err(db("preparing the outbox cleanup"))?;
        for entry in sent {
            if retry.iter().any(|(t, k)| *t == entry.table && *k == entry.key_json) {
                continue;
            }
            let acknowledged = acknowledge
                .execute((&entry.table, &entry.key_json, entry.seq))
                .map_err(db("removing sent outbox entries"))?;
            // The server has the row now (or removed it), though this pull may not serve it.
            if resyncing && acknowledged > 0 {
                resync::served(&tx, &entry.table, &entry.key_json)?;
            }
            applied.acknowledged += acknowledged;
        }
    }
    let mut pending = tx
        .query_row("SELECT EXISTS (SELECT 1 FROM _sync_outbox)", [], |row| row.get::<_, bool>(0))
        .map_err(db("reading the outbox"))?;

    for rejected in response.rejected.into_iter().filter(|r| r.reason != RejectReason::ClockSkew) {
        let plan = applier.plan(&rejected.table)?;
        if quarantine::is_final(rejected.reason) {
            let key = plan.stored_key(&rejected.key)?;
            // A newer local write of the row supersedes the refused one: it is pushed next.
            if plan.pending(&tx, &key)?.is_some() {
                continue;
            }
            let key_json = plan.key_json(&tx, &key)?;
            let deleted = sent.iter().any(|e| {
                e.table == rejected.table && e.key_json == key_json && e.deleted_at.is_some()
            });
            quarantine::keep(&tx, plan, &key_json, deleted, &rejected)?;
            applied.quarantined += 1;
        }
        match rejected.server_row {
            Some(row) => applier.row(plan, &row_values(row)?, &mut pending, &mut applied)?,
            None => applier.removed(plan, &rejected.key, &mut pending, &mut applied)?,
        }
    }
    for change in response.changes {
        match change {
            PulledChange::PulledRow(pulled) => {
                let plan = applier.plan(&pulled.table)?;
                applier.row(plan, &row_values(pulled.row)?, &mut pending, &mut applied)?;
            }
            PulledChange::PulledDelete(pulled) => {
                let plan = applier.plan(&pulled.table)?;
                applier.removed(plan, &pulled.key, &mut pending, &mut applied)?;
            }
        }
    }

    if resyncing && !response.has_more {
        applied.deleted += resync::finish(&tx, plans)?;
    }
    tx.execute("UPDATE _sync_client SET cursor = ?1, applying = 0", [&response.cursor])
        .map_err(db("storing the cursor"))?;
    tx.commit().map_err(db("committing a sync"))?;
    Ok(applied)
}

struct Applier<'a> {
    conn: &'a Connection,
    plans: &'a [TablePlan],
    client_id: &'a str,
    /// Whether a resync is under way: served rows come off its list.
    resyncing: bool,
}

impl Applier<'_> {
    fn plan(&self, table: &str) -> Result<&TablePlan, ClientError> {
        self.plans.iter().find(|p| p.meta.name == table).ok_or_else(|| {
            ClientError::Protocol(format!(
                "the server sent a change of table `{table}`, which this client does not sync"
            ))
        })
    }

    /// Store a row the server sent, or delete it when it is soft-deleted, unless a newer local
    /// write of it is pending.
    fn row(
        &self,
        plan: &TablePlan,
        row: &Key,
        pending: &mut bool,
        applied: &mut Applied,
    ) -> Result<(), ClientError> {
        let key = plan.stored_key(row)?;
        self.served(plan, &key)?;
        if *pending && let Some(local) = plan.pending(self.conn, &key)? {
            if self.local_is_newer(plan, &local, row)? {
                applied.kept_local += 1;
                return Ok(());
            }
            self.forget(plan, &local.key_json, pending)?;
        }
        let deleted =
            plan.meta.sync.deleted.is_some_and(|d| row.get(d) == Some(&Value::Bool(true)));
        if deleted {
            plan.delete(self.conn, &key)?;
            applied.deleted += 1;
        } else {
            applied.quarantined += quarantine::store(self.conn, plan, row)?;
            applied.stored += 1;
        }
        Ok(())
    }

    /// Delete a row the server removed, pending local write or not.
    fn removed(
        &self,
        plan: &TablePlan,
        key: &Key,
        pending: &mut bool,
        applied: &mut Applied,
    ) -> Result<(), ClientError> {
        let key = plan.stored_key(key)?;
        self.served(plan, &key)?;
        if *pending && let Some(local) = plan.pending(self.conn, &key)? {
            self.forget(plan, &local.key_json, pending)?;
        }
        plan.delete(self.conn, &key)?;
        applied.deleted += 1;
        Ok(())
    }

    /// Take a row the server sent off the resync list, when a resync is under way.
    fn served(&self, plan: &TablePlan, key: &[SqlValue]) -> Result<(), ClientError> {
        if !self.resyncing {
            return Ok(());
        }
        resync::served(self.conn, plan.meta.name, &plan.key_json(self.conn, key)?)
    }

    /// Whether the pending local write `local` wins over the server's `row` by the server's rule.
    fn local_is_newer(
        &self,
        plan: &TablePlan,
        local: &super::local::Pending,
        row: &Key,
    ) -> Result<bool, ClientError> {
        let sync = plan.meta.sync;
        let Some(modified) = sync.modified else { return Ok(false) };
        let local_time = match &local.deleted_at {
            Some(at) => Some(at.clone()),
            None => plan
                .read(self.conn, &local.key_json)?
                .and_then(|r| r.get(modified).and_then(Value::as_str).map(str::to_owned)),
        };
        let Some(local_time) = local_time.as_deref().and_then(|t| parse_timestamp(t).ok()) else {
            return Ok(false);
        };
        let theirs_time =
            row.get(modified).and_then(Value::as_str).and_then(|t| parse_timestamp(t).ok());
        let theirs_time = theirs_time.unwrap_or(DateTime::<Utc>::MIN_UTC);
        Ok(match sync.device {
            Some(device) => {
                let theirs_device = row.get(device).and_then(Value::as_str);
                (local_time, Some(self.client_id)) > (theirs_time, theirs_device)
            }
            None => local_time > theirs_time,
        })
    }

    /// Drop the outbox entry of a local write the server's row replaces.
    fn forget(
        &self,
        plan: &TablePlan,
        key_json: &str,
        pending: &mut bool,
    ) -> Result<(), ClientError> {
        self.conn
            .execute(
                "DELETE FROM _sync_outbox WHERE table_name = ?1 AND key = ?2",
                (plan.meta.name, key_json),
            )
            .map_err(db("dropping a superseded outbox entry"))?;
        *pending = self
            .conn
            .query_row("SELECT EXISTS (SELECT 1 FROM _sync_outbox)", [], |row| row.get(0))
            .map_err(db("reading the outbox"))?;
        Ok(())
    }
}

fn row_values(row: crate::protocol::Row) -> Result<Key, ClientError> {
    row.into_values()
        .map_err(|e| ClientError::Protocol(format!("a pulled row is not a JSON object: {e}")))
}
