//! Last write wins, as a pure function of a validated change and the server's current row
//! (docs/sync.md). The store only carries out what this decides.
//!
//! A change wins when its `(modified, device)` is greater than the row's: the later conflict time
//! wins, and on equal times the greater device id, so every run and every server breaks a tie the
//! same way. A change equal to the row on both is a resend (a lost acknowledgement): a no-op when
//! it carries the same values, and otherwise the row already there stays.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::validate::{Change, Op, same_value};
use crate::protocol::RejectReason;
use crate::schema::{Deletes, TableMeta};
use crate::store::Values;
use crate::wire;

/// What to do with one change.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// A new row with exactly these columns; the others take their defaults.
    Insert(Values),
    /// The row's new values, every column.
    Update(Values),
    /// Remove the row with this key (a delete of a table with `deletes = "hard"`).
    Delete(Values),
    /// Nothing to write, and nothing to refuse: a resend, or a delete of a row the server never had.
    Noop,
    Reject(RejectReason),
}

/// Decide `change` against the server's current row, as the device `client_id` at `now`.
pub(crate) fn decide(
    change: &Change,
    current: Option<&Values>,
    client_id: &str,
    latest_allowed: DateTime<Utc>,
) -> Outcome {
    if change.modified > latest_allowed {
        return Outcome::Reject(RejectReason::ClockSkew);
    }
    let table = change.table;
    let Some(current) = current else {
        return match &change.op {
            Op::Upsert(row) => Outcome::Insert(stamped(table, row.clone(), 1, client_id)),
            Op::Delete => Outcome::Noop,
        };
    };
    let ours = (change.modified, Some(client_id));
    let theirs = (modified_of(table, current), device_of(table, current));
    let newer = match table.sync.device {
        Some(_) => ours > theirs,
        None => ours.0 > theirs.0,
    };
    let resend = ours.0 == theirs.0 && (table.sync.device.is_none() || ours.1 == theirs.1);
    let mut next = current.clone();
    match &change.op {
        Op::Upsert(row) => next.extend(row.iter().map(|(k, v)| (k.clone(), v.clone()))),
        // A hard delete has no row to compare: it wins or loses on its time alone.
        Op::Delete if table.deletes == Deletes::Hard => {
            return if newer {
                Outcome::Delete(change.key.clone())
            } else {
                Outcome::Reject(RejectReason::Stale)
            };
        }
        Op::Delete => {
            let deleted = table.sync.deleted.expect("validation refuses deletes without one");
            let modified = table.sync.modified.expect("synced tables have a modified column");
            next.insert(deleted.to_owned(), Value::Bool(true));
            next.insert(modified.to_owned(), Value::String(timestamp(change.modified)));
        }
    }
    if newer {
        let version = table.sync.version.and_then(|v| current.get(v)).and_then(Value::as_i64);
        Outcome::Update(stamped(table, next, version.unwrap_or(0) + 1, client_id))
    } else if resend && same_row(table, &next, current) {
        Outcome::Noop
    } else {
        Outcome::Reject(RejectReason::Stale)
    }
}

/// The row with the server's bookkeeping: its write counter and the device that wrote it.
/// The sentence of a last-write-wins rejection, the same whatever the store.
pub(crate) fn explain(reason: RejectReason, table: &TableMeta) -> String {
    match reason {
        RejectReason::Stale => {
            format!("the server's row of `{}` is as new as this change or newer", table.name)
        }
        RejectReason::ClockSkew => format!(
            "this change of `{}` is dated too far in the future by the server's clock",
            table.name
        ),
        other => format!("this change of `{}` was refused: {other}", table.name),
    }
}

fn stamped(table: &TableMeta, mut row: Values, version: i64, client_id: &str) -> Values {
    if let Some(column) = table.sync.version {
        row.insert(column.to_owned(), Value::from(version));
    }
    if let Some(column) = table.sync.device {
        row.insert(column.to_owned(), Value::String(client_id.to_owned()));
    }
    row
}

/// Whether two rows hold the same values, bookkeeping aside.
fn same_row(table: &TableMeta, a: &Values, b: &Values) -> bool {
    let bookkeeping = [table.sync.version, table.sync.device];
    table.columns.iter().filter(|c| !bookkeeping.contains(&Some(c.name))).all(|c| {
        match (a.get(c.name), b.get(c.name)) {
            (Some(x), Some(y)) => same_value(c, x, y),
            (x, y) => x == y,
        }
    })
}

fn modified_of(table: &TableMeta, row: &Values) -> DateTime<Utc> {
    table
        .sync
        .modified
        .and_then(|m| row.get(m))
        .and_then(Value::as_str)
        .and_then(|s| wire::parse_timestamp(s).ok())
        // A row with no conflict time (written by other means) loses to any change.
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn device_of<'a>(table: &TableMeta, row: &'a Values) -> Option<&'a str> {
    table.sync.device.and_then(|d| row.get(d)).and_then(Value::as_str)
}

fn timestamp(at: DateTime<Utc>) -> String {
    wire::format_timestamp(&at).expect("a validated conflict time has a wire form")
}

#[cfg(test)]
#[path = "decide/tests.rs"]
mod tests;
