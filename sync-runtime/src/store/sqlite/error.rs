//! SQLite's errors as [`StoreError`]s that say what was being done and where.

use rusqlite::ErrorCode;

use crate::schema::TableMeta;
use crate::store::StoreError;

/// An error of any statement: `doing` says what, such as "reading `tune`".
pub(super) fn sqlite(doing: &str, error: rusqlite::Error) -> StoreError {
    match error.sqlite_error_code() {
        // Another process holds the write lock past the busy timeout.
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StoreError::Conflict(format!("{doing}: {error}"))
        }
        _ => StoreError::Database(format!("{doing}: {error}")),
    }
}

/// An error of a write to `table`: a refused constraint names the table, and the column or the
/// constraint when SQLite's message does.
pub(super) fn write(table: &TableMeta, doing: &str, error: rusqlite::Error) -> StoreError {
    if error.sqlite_error_code() != Some(ErrorCode::ConstraintViolation) {
        return sqlite(doing, error);
    }
    let reason = match &error {
        rusqlite::Error::SqliteFailure(_, Some(message)) => message.clone(),
        other => other.to_string(),
    };
    let (column, constraint) = blame(table, &reason);
    StoreError::Constraint {
        message: format!("{doing}: {reason}"),
        table: Some(table.name.to_owned()),
        column,
        constraint,
    }
}

/// The column and the constraint a constraint message of SQLite names.
fn blame(table: &TableMeta, reason: &str) -> (Option<String>, Option<String>) {
    // `UNIQUE constraint failed: t.a, t.b` and `NOT NULL constraint failed: t.a`.
    let columns = |list: &str| {
        let names: Vec<&str> =
            list.split(", ").map(|c| c.rsplit_once('.').map_or(c, |(_, name)| name)).collect();
        Some(names.join(", "))
    };
    if let Some(list) = reason.strip_prefix("UNIQUE constraint failed: ") {
        return (columns(list), None);
    }
    if let Some(list) = reason.strip_prefix("NOT NULL constraint failed: ") {
        return (columns(list), None);
    }
    // `CHECK constraint failed: name`; the generator names a column's own check
    // `<table>_<column>_check`.
    if let Some(name) = reason.strip_prefix("CHECK constraint failed: ") {
        let column = table
            .columns
            .iter()
            .find(|c| name == format!("{}_{}_check", table.name, c.name))
            .map(|c| c.name.to_owned());
        return (column, Some(name.to_owned()));
    }
    // A STRICT table: `cannot store TEXT value in INTEGER column t.a`.
    if let Some((_, column)) =
        reason.strip_prefix("cannot store ").and_then(|rest| rest.rsplit_once(" column "))
    {
        return (columns(column), None);
    }
    // `FOREIGN KEY constraint failed` names nothing.
    (None, None)
}
