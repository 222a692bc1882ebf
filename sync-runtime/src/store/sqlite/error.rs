//! SQLite's errors as [`StoreError`]s that say what was being done and where, and the rows a
//! constraint refused as [`Refused`], by SQLite's extended result codes.

use rusqlite::{ErrorCode, ffi};

use crate::store::{Refused, RefusedBy, StoreError};

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

/// An error of a write of one row: a refused constraint as [`Refused`], anything else as
/// [`sqlite`]'s error. SQLite undoes the failed statement alone, so the transaction goes on.
pub(super) fn write(doing: &str, error: rusqlite::Error) -> Result<Refused, StoreError> {
    let (code, message) = match &error {
        rusqlite::Error::SqliteFailure(e, message) => (e.extended_code, message.clone()),
        _ => return Err(sqlite(doing, error)),
    };
    let message = message.unwrap_or_else(|| error.to_string());
    let by = match code {
        ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => RefusedBy::Unique,
        ffi::SQLITE_CONSTRAINT_FOREIGNKEY => RefusedBy::ForeignKey,
        // `ON DELETE RESTRICT` fails from the trigger program SQLite runs for the key.
        ffi::SQLITE_CONSTRAINT_TRIGGER if message == FOREIGN_KEY_FAILED => RefusedBy::ForeignKey,
        ffi::SQLITE_CONSTRAINT_CHECK => RefusedBy::Check,
        ffi::SQLITE_CONSTRAINT_NOTNULL => RefusedBy::NotNull,
        _ => return Err(sqlite(doing, error)),
    };
    let (columns, constraint) = blame(&message);
    Ok(Refused { by, constraint, columns, detail: format!("{doing}: {message}") })
}

/// SQLite's message for every foreign key it refuses a write by.
const FOREIGN_KEY_FAILED: &str = "FOREIGN KEY constraint failed";

/// The columns and the constraint a constraint message of SQLite names: `UNIQUE constraint
/// failed: t.a, t.b`, `NOT NULL constraint failed: t.a`, `CHECK constraint failed: name`;
/// `FOREIGN KEY constraint failed` names nothing.
fn blame(message: &str) -> (Vec<String>, Option<String>) {
    let columns = |list: &str| {
        list.split(", ")
            .map(|c| c.rsplit_once('.').map_or(c, |(_, name)| name).to_owned())
            .collect()
    };
    if let Some(list) = message
        .strip_prefix("UNIQUE constraint failed: ")
        .or_else(|| message.strip_prefix("NOT NULL constraint failed: "))
    {
        return (columns(list), None);
    }
    match message.strip_prefix("CHECK constraint failed: ") {
        Some(name) => (Vec::new(), Some(name.to_owned())),
        None => (Vec::new(), None),
    }
}
