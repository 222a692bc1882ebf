//! The quarantine (docs/sync.md): changes the server refused for good (`constraint`,
//! `too_large`, `forbidden`), kept with the device's version of the row so nothing the user
//! typed is lost, and what an app does with them: list, discard, or retry after editing.
//!
//! A refused change leaves the outbox like an acknowledged one, so the rest of the outbox keeps
//! syncing; the device's row goes into the generated `_sync_quarantine` table with the server's
//! verdict, and the local row becomes the server's (or is removed when the server has none the
//! user may read), all in the transaction that applies the answer. A retry writes the row back
//! through an ordinary local write, which the outbox triggers record like any other.

use chrono::{SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use serde_json::Value;

use super::local::{TablePlan, db};
use super::{Client, ClientError};
use crate::protocol::{ConstraintKind, Key, RejectReason, Rejected};

/// What a quarantined change did on the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuarantinedOp {
    /// The row was created or edited; [`Quarantined::local_row`] holds it.
    Upsert,
    /// The row was deleted.
    Delete,
}

/// A change the server refused for good, as the device keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Quarantined {
    /// The entry's id, for [`Client::discard`] and [`Client::retry`].
    pub id: i64,
    pub table: String,
    /// The row's primary key, in wire form.
    pub key: Key,
    pub op: QuarantinedOp,
    /// The device's row as it was pushed, in wire form; `None` for a delete.
    pub local_row: Option<Key>,
    pub reason: RejectReason,
    /// The constraint the change broke, for `constraint`.
    pub constraint: Option<String>,
    pub kind: Option<ConstraintKind>,
    /// The column at fault, when there is one.
    pub column: Option<String>,
    /// The server's sentence for people.
    pub message: String,
    /// The server's row the device took instead, when the user may read one.
    pub server_row: Option<Key>,
    /// When the change was quarantined (RFC 3339 UTC).
    pub quarantined_at: String,
}

/// Whether a rejection puts the change in the quarantine: the server will refuse it again as it
/// is. (`stale` is last write wins doing its job; `clock_skew` is sent again later.)
pub(super) fn is_final(reason: RejectReason) -> bool {
    matches!(reason, RejectReason::Constraint | RejectReason::TooLarge | RejectReason::Forbidden)
}

/// Quarantine the change `rejected` refused, of the row whose outbox key is `key_json`: a delete
/// when `deleted`, else the local row as it still is.
pub(super) fn keep(
    conn: &Connection,
    plan: &TablePlan,
    key_json: &str,
    deleted: bool,
    rejected: &Rejected,
) -> Result<(), ClientError> {
    let (op, local_row) = if deleted {
        ("delete", None)
    } else {
        ("upsert", plan.read(conn, key_json)?.map(|row| Value::Object(row).to_string()))
    };
    let server_row = rejected.server_row.as_ref().map(serde_json::to_string).transpose();
    let server_row = server_row.map_err(|e| ClientError::Protocol(format!("a rejection: {e}")))?;
    conn.execute(
        "INSERT INTO _sync_quarantine (table_name, key, op, local_row, reason, constraint_name, \
         kind, column_name, message, server_row) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        rusqlite::params![
            plan.meta.name,
            key_json,
            op,
            local_row,
            rejected.reason.as_str(),
            rejected.constraint,
            rejected.kind.map(ConstraintKind::as_str),
            rejected.column,
            rejected.message,
            server_row,
        ],
    )
    .map_err(db("quarantining a refused change"))?;
    Ok(())
}

/// Store the pulled `row`. A unique key that refuses it is held by a local row the server does
/// not have in that state: a pending local write, which the server would refuse, goes to the
/// quarantine (and leaves the outbox and the table); a row without one is a stale copy, which a
/// later page brings back as the server has it. Returns how many rows were quarantined.
pub(super) fn store(conn: &Connection, plan: &TablePlan, row: &Key) -> Result<usize, ClientError> {
    let refused = match plan.try_upsert(conn, row)? {
        Ok(()) => return Ok(0),
        Err(e) if is_unique(&e) => e,
        Err(e) => return Err(db(&format!("storing a pulled row of `{}`", plan.meta.name))(e)),
    };
    let mut quarantined = 0;
    for unique in plan.meta.constraints.unique {
        for key_json in plan.holders(conn, unique.columns, row)? {
            let key = plan.wire_key(&key_json)?;
            let stored = plan.stored_key(&key)?;
            if plan.pending(conn, &stored)?.is_some() {
                let columns = unique.columns.join(", ");
                let verdict = Rejected {
                    table: plan.meta.name.to_owned(),
                    key,
                    reason: RejectReason::Constraint,
                    message: format!(
                        "`{}` already has a row with these values of ({columns}) on the server; \
                         this device's row was not pushed",
                        plan.meta.name
                    ),
                    constraint: Some(unique.name.to_owned()),
                    kind: Some(ConstraintKind::Unique),
                    column: (unique.columns.len() == 1).then(|| unique.columns[0].to_owned()),
                    server_row: None,
                };
                keep(conn, plan, &key_json, false, &verdict)?;
                conn.execute(
                    "DELETE FROM _sync_outbox WHERE table_name = ?1 AND key = ?2",
                    (plan.meta.name, &key_json),
                )
                .map_err(db("dropping a quarantined outbox entry"))?;
                quarantined += 1;
            }
            plan.delete(conn, &stored)?;
        }
    }
    plan.try_upsert(conn, row)?
        .map_err(|_| db(&format!("storing a pulled row of `{}`", plan.meta.name))(refused))?;
    Ok(quarantined)
}

fn is_unique(error: &rusqlite::Error) -> bool {
    matches!(error, rusqlite::Error::SqliteFailure(e, _)
        if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
}

impl Client {
    /// Every quarantined change, oldest first.
    pub fn quarantine(&self) -> Result<Vec<Quarantined>, ClientError> {
        let conn = self.lock();
        let mut statement = conn
            .prepare(
                "SELECT id, table_name, key, op, local_row, reason, constraint_name, kind, \
                 column_name, message, server_row, quarantined_at FROM _sync_quarantine ORDER BY id",
            )
            .map_err(db("reading the quarantine"))?;
        let rows = statement
            .query_map([], |row| {
                Ok(Stored {
                    id: row.get(0)?,
                    table: row.get(1)?,
                    key_json: row.get(2)?,
                    op: row.get(3)?,
                    local_row: row.get(4)?,
                    reason: row.get(5)?,
                    constraint: row.get(6)?,
                    kind: row.get(7)?,
                    column: row.get(8)?,
                    message: row.get(9)?,
                    server_row: row.get(10)?,
                    quarantined_at: row.get(11)?,
                })
            })
            .and_then(Iterator::collect::<Result<Vec<Stored>, _>>)
            .map_err(db("reading the quarantine"))?;
        rows.into_iter()
            .map(|stored| {
                let plan = self.plan(&stored.table)?;
                stored.into_quarantined(plan)
            })
            .collect()
    }

    /// How many changes are quarantined.
    pub fn quarantined_count(&self) -> Result<usize, ClientError> {
        let count: i64 = self
            .lock()
            .query_row("SELECT count(*) FROM _sync_quarantine", [], |row| row.get(0))
            .map_err(db("counting the quarantine"))?;
        Ok(usize::try_from(count).unwrap_or(0))
    }

    /// Drop the quarantined change `id`: the user gives it up.
    pub fn discard(&self, id: i64) -> Result<(), ClientError> {
        let removed = self
            .lock()
            .execute("DELETE FROM _sync_quarantine WHERE id = ?1", [id])
            .map_err(db("discarding a quarantined change"))?;
        if removed == 0 {
            return Err(no_such_entry(id));
        }
        Ok(())
    }

    /// Make the quarantined change `id` again, as a new local write, and leave the quarantine:
    /// an upsert writes `row` (the app's edit: the columns it holds replace the quarantined
    /// row's; `None` for the row as it was) with the conflict time of now; a delete deletes the
    /// row. The outbox records it and the next sync pushes it.
    pub fn retry(&self, id: i64, row: Option<Key>) -> Result<(), ClientError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db("retrying a quarantined change"))?;
        let entry: Option<(String, String, Option<String>)> = tx
            .query_row(
                "SELECT table_name, key, local_row FROM _sync_quarantine WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(db("reading a quarantined change"))?;
        let (table, key_json, local_row) = entry.ok_or_else(|| no_such_entry(id))?;
        let plan = self.plan(&table)?;
        let key = plan.stored_key(&plan.wire_key(&key_json)?)?;
        match local_row {
            Some(local_row) => {
                let mut full = parse_object(&local_row, "a quarantined row")?;
                full.extend(row.unwrap_or_default());
                if let Some(modified) = plan.meta.sync.modified {
                    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
                    full.insert(modified.to_owned(), Value::String(now));
                }
                plan.upsert(&tx, &full)?;
            }
            None => plan.delete(&tx, &key)?,
        }
        tx.execute("DELETE FROM _sync_quarantine WHERE id = ?1", [id])
            .map_err(db("leaving the quarantine"))?;
        tx.commit().map_err(db("retrying a quarantined change"))?;
        drop(conn);
        self.signal();
        Ok(())
    }
}

/// A quarantine row as SQLite holds it.
struct Stored {
    id: i64,
    table: String,
    key_json: String,
    op: String,
    local_row: Option<String>,
    reason: String,
    constraint: Option<String>,
    kind: Option<String>,
    column: Option<String>,
    message: String,
    server_row: Option<String>,
    quarantined_at: String,
}

impl Stored {
    fn into_quarantined(self, plan: &TablePlan) -> Result<Quarantined, ClientError> {
        Ok(Quarantined {
            id: self.id,
            key: plan.wire_key(&self.key_json)?,
            op: if self.op == "delete" { QuarantinedOp::Delete } else { QuarantinedOp::Upsert },
            local_row: self.local_row.as_deref().map(|r| parse_object(r, "its row")).transpose()?,
            reason: word(self.id, self.reason)?,
            kind: self.kind.map(|kind| word(self.id, kind)).transpose()?,
            server_row: self
                .server_row
                .as_deref()
                .map(|r| parse_object(r, "the server's row"))
                .transpose()?,
            table: self.table,
            constraint: self.constraint,
            column: self.column,
            message: self.message,
            quarantined_at: self.quarantined_at,
        })
    }
}

/// A protocol word (a reason, a constraint kind) as the quarantine of entry `id` stores it.
fn word<T: serde::de::DeserializeOwned>(id: i64, text: String) -> Result<T, ClientError> {
    serde_json::from_value(Value::String(text.clone())).map_err(|_| {
        ClientError::Database(format!("quarantined change {id}: unknown verdict `{text}`"))
    })
}

fn parse_object(text: &str, what: &str) -> Result<Key, ClientError> {
    serde_json::from_str(text)
        .map_err(|e| ClientError::Database(format!("{what} in the quarantine: {e}")))
}

fn no_such_entry(id: i64) -> ClientError {
    ClientError::Database(format!("no quarantined change has the id {id}"))
}
