//! One pull page: the rows and tombstones a user may read, after a cursor, in counter order.
//!
//! Every change has its own counter value (see the `machinery` module), so a position
//! is one number and the cursor is that number, written `s<number>`, then `~` and the prune
//! count (`retention.rs`). Each table and the tombstones are read in turn through the pull indexes, each only below the page's ceiling, and
//! each change is written as the response's JSON as it is read; a source stops as soon as the
//! page cannot take more of it ([`crate::store::page`]), so memory stays bounded by the page's
//! bytes, and `has_more` is exact.

use rusqlite::{Connection, params};

use super::SqliteStore;
use super::error::sqlite;
use crate::protocol::{PulledChange, PulledDelete, PulledRow, Row, True};
use crate::store::page::{Builder, Changes, PageLimit};
use crate::store::retention;
use crate::store::{Page, StoreError};

/// A change's place: its counter value (unique), then its source, for the merge.
type At = (i64, usize);

/// Read one page for `user` after `cursor`, serving only changes at or below `snapshot` (the
/// counter when the transaction began: later values are this transaction's own writes).
pub(super) fn page(
    conn: &Connection,
    store: &SqliteStore,
    user: &str,
    cursor: Option<&str>,
    limit: PageLimit,
    snapshot: i64,
) -> Result<Page, StoreError> {
    let after = parse_cursor(cursor, snapshot)?;
    let prunes = super::retention::prunes(conn)?;
    let fetch = i64::try_from(limit.changes).unwrap_or(i64::MAX - 1).saturating_add(1);
    let mut builder = Builder::<At>::new(limit);
    // Nothing was written since the cursor (the counter has not moved, the idle device's
    // case): no source can hold a change, and none is asked.
    if after < snapshot {
        read(conn, store, user, (after, snapshot), fetch, &mut builder)?;
    }
    let (entries, has_more) = builder.finish();
    let next = match entries.last() {
        Some(last) if has_more => last.at.0,
        _ => snapshot,
    };
    Ok(Page {
        changes: Changes::new(entries.into_iter().map(|e| e.json).collect()),
        cursor: retention::tag(&format!("s{next}"), prunes),
        has_more,
    })
}

/// Read the changes after counter value `after` and at or below `snapshot` into `builder`: each
/// table's rows, then the tombstones.
fn read(
    conn: &Connection,
    store: &SqliteStore,
    user: &str,
    (after, snapshot): (i64, i64),
    fetch: i64,
    builder: &mut Builder<At>,
) -> Result<(), StoreError> {
    // Counter values are unique, so below the ceiling is below its value, whatever the source.
    let upto = |builder: &Builder<At>| builder.ceiling().map_or(snapshot, |(seq, _)| seq - 1);
    for (index, plan) in store.tables.iter().enumerate() {
        let table = plan.meta.name;
        let doing = format!("pulling `{table}`");
        let mut statement = conn.prepare_cached(&plan.pull).map_err(|e| sqlite(&doing, e))?;
        let mut rows = statement
            .query(params![after, upto(builder), user, fetch])
            .map_err(|e| sqlite(&doing, e))?;
        let mut taken = builder.source();
        while let Some(row) = rows.next().map_err(|e| sqlite(&doing, e))? {
            let seq: i64 = row.get(plan.meta.columns.len()).map_err(|e| sqlite(&doing, e))?;
            let at = (seq, index + 1);
            if !taken.wants(at) {
                break;
            }
            let row = Row::from_values(plan.read_row(row)?);
            let change = PulledChange::PulledRow(PulledRow { table: table.to_owned(), row });
            if !taken.push(at, json(&change)?) {
                break;
            }
        }
        taken.finish();
    }
    let doing = "pulling deleted rows";
    let mut statement = conn.prepare_cached(&store.tombstone_pull).map_err(|e| sqlite(doing, e))?;
    let mut rows = statement
        .query(params![after, upto(builder), user, fetch])
        .map_err(|e| sqlite(doing, e))?;
    let mut taken = builder.source();
    while let Some(row) = rows.next().map_err(|e| sqlite(doing, e))? {
        let seq: i64 = row.get(0).map_err(|e| sqlite(doing, e))?;
        let table_name: String = row.get(1).map_err(|e| sqlite(doing, e))?;
        let stored_key: String = row.get(2).map_err(|e| sqlite(doing, e))?;
        // The query keeps only tombstones of synced tables.
        let Some(plan) = store.tables.iter().find(|p| p.meta.name == table_name) else {
            continue;
        };
        let at = (seq, 0);
        if !taken.wants(at) {
            break;
        }
        let change = PulledChange::PulledDelete(PulledDelete {
            table: plan.meta.name.to_owned(),
            key: plan.tombstone_key(&stored_key)?,
            deleted: True,
        });
        if !taken.push(at, json(&change)?) {
            break;
        }
    }
    taken.finish();
    Ok(())
}

fn json(change: &PulledChange) -> Result<String, StoreError> {
    serde_json::to_string(change)
        .map_err(|e| StoreError::Database(format!("writing a pulled change as JSON: {e}")))
}

/// The counter value a cursor stands for; `None` is the beginning. A cursor beyond the counter
/// was not made by this database (it was replaced, or the cursor comes from another store), and
/// following it would skip rows.
fn parse_cursor(cursor: Option<&str>, snapshot: i64) -> Result<i64, StoreError> {
    let Some(text) = cursor else { return Ok(0) };
    let value = retention::untag(text)
        .0
        .strip_prefix('s')
        .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|digits| digits.parse::<i64>().ok())
        .ok_or_else(|| StoreError::BadCursor(text.to_owned()))?;
    if value > snapshot {
        return Err(StoreError::BadCursor(text.to_owned()));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_s_and_a_counter_value_not_beyond_the_counter() {
        assert_eq!(parse_cursor(None, 5).unwrap(), 0);
        assert_eq!(parse_cursor(Some("s0"), 5).unwrap(), 0);
        assert_eq!(parse_cursor(Some("s5"), 5).unwrap(), 5);
        assert_eq!(parse_cursor(Some("s5~3"), 5).unwrap(), 5);
        for bad in
            ["", "s", "5", "s-1", "s+1", "s 1", "s6", "s99999999999999999999", "x5", "s5~", "s6~1"]
        {
            assert!(
                matches!(parse_cursor(Some(bad), 5), Err(StoreError::BadCursor(c)) if c == bad),
                "{bad}"
            );
        }
    }
}
