//! Checking a request against the schema before anything touches the database: known tables and
//! columns, values of the right type in their canonical wire form, keys, the conflict time, and
//! the owner of every pushed row. Pure functions; a problem refuses the whole request with a
//! message naming table, key and column.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, Utc};
use serde_json::{Number, Value};

use super::access::key_text;
use super::refusal::{Invalid, Located, Refusal, place_of};
use crate::protocol::{DeleteChange, Key, PushChange, UpsertChange};
use crate::schema::{ColumnMeta, Deletes, LogicalType, PostgresType, SchemaMeta, Scope, TableMeta};
use crate::store::Values;
use crate::wire;

/// A pushed change that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Change {
    pub table: &'static TableMeta,
    /// The primary key columns, canonical.
    pub key: Values,
    /// The key as [`key_text`] writes it, to find the row by.
    pub key_text: String,
    /// The conflict time: the row's modified column, or the delete's time.
    pub modified: DateTime<Utc>,
    pub op: Op,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    /// The columns the client sent, canonical; the rest keep their value (or take their default
    /// when the row is new).
    Upsert(Values),
    Delete,
}

/// Validate every change; the result keeps request order.
pub(crate) fn changes(
    schema: &'static SchemaMeta,
    user: &str,
    changes: Vec<PushChange>,
) -> Result<Vec<Change>, Refusal> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(changes.len());
    for change in changes {
        let change = match change {
            PushChange::UpsertChange(upsert) => upsert_change(schema, user, upsert)?,
            PushChange::DeleteChange(delete) => delete_change(schema, &delete)?,
        };
        if !seen.insert((change.table.name, change.key_text.clone())) {
            let (table, key) = (change.table.name, &change.key);
            let message = format!(
                "{} is changed twice in one request; send one change per row",
                place_of(table, Some(key))
            );
            return Err(Refusal::invalid(
                Invalid::DuplicateChange,
                Located::table(table, message).key(key),
            ));
        }
        out.push(change);
    }
    Ok(out)
}

/// A table clients may write.
fn writable_table(schema: &'static SchemaMeta, name: &str) -> Result<&'static TableMeta, Refusal> {
    let table = schema.table(name).filter(|t| t.is_synced()).ok_or_else(|| {
        let message = format!("there is no synced table `{name}`");
        Refusal::invalid(Invalid::UnknownTable, Located::table(name, message))
    })?;
    if table.scope == Scope::Public {
        let message = format!("table `{name}` is public: clients read it and never write it");
        return Err(Refusal::forbidden(Located::table(name, message)));
    }
    Ok(table)
}

fn upsert_change(
    schema: &'static SchemaMeta,
    user: &str,
    change: UpsertChange,
) -> Result<Change, Refusal> {
    let table = writable_table(schema, &change.table)?;
    let sent = change.row.into_values().map_err(|e| {
        let message = format!("a row of table `{}`: {e}", table.name);
        Refusal::invalid(Invalid::InvalidRow, Located::table(table.name, message))
    })?;
    // The key first, so that every later message can name it.
    let key = key_of(table, &sent)?;
    let place = place_of(table.name, Some(&key));
    // A problem with `column` of the row.
    let at = |column: &str, message: String| {
        Located::table(table.name, message).key(&key).column(column)
    };
    let mut row = Values::new();
    for (name, value) in sent {
        let column = table.column(&name).ok_or_else(|| {
            let message = format!("{place}: table `{}` has no column `{name}`", table.name);
            Refusal::invalid(Invalid::UnknownColumn, at(&name, message))
        })?;
        let value = canonical(column, value).map_err(|problem| {
            let message = format!("{place}, column `{name}`: {}", problem.message);
            Refusal::invalid(problem.why, at(&name, message))
        })?;
        row.insert(name, value);
    }
    for column in table.columns {
        let server_kept = [table.sync.version, table.sync.device].contains(&Some(column.name));
        if !row.contains_key(column.name) && !column.nullable && !column.has_default && !server_kept
        {
            let message = format!("{place}: column `{}` is required", column.name);
            return Err(Refusal::invalid(Invalid::MissingColumn, at(column.name, message)));
        }
    }
    let modified = conflict_time(table, &key, &row)?;
    if let Some(owner) = table.sync.owner {
        match row.get(owner) {
            Some(Value::String(o)) if o == user => {}
            Some(Value::Null) | None if table.scope == Scope::OwnerOrPublic => {
                let message = format!(
                    "{place}: a row with no owner is public, and public rows are read-only; set `{owner}` to your user id"
                );
                return Err(Refusal::forbidden(at(owner, message)));
            }
            _ => {
                let message = format!(
                    "{place}: column `{owner}` must be your user id: rows can only be written by their owner"
                );
                return Err(Refusal::forbidden(at(owner, message)));
            }
        }
    }
    // A `via:` row with no parent is nobody's: no user may read it (docs/sync.md), nor write it.
    if let Scope::Via { column, .. } = table.scope
        && row.get(column) == Some(&Value::Null)
    {
        let message = format!(
            "{place}: a row with no parent is nobody's, and nobody may write it; set `{column}` to a row of yours"
        );
        return Err(Refusal::forbidden(at(column, message)));
    }
    Ok(Change { table, key_text: key_text(table, &key), key, modified, op: Op::Upsert(row) })
}

fn delete_change(schema: &'static SchemaMeta, change: &DeleteChange) -> Result<Change, Refusal> {
    let table = writable_table(schema, &change.table)?;
    let key = key_of(table, &change.key)?;
    let place = place_of(table.name, Some(&key));
    let at = |message: String| Located::table(table.name, message).key(&key);
    if let Some(extra) = change.key.keys().find(|k| !table.primary_key.contains(&k.as_str())) {
        let message = format!(
            "{place}: `{extra}` is not a primary key column; a delete's key holds exactly the primary key"
        );
        return Err(Refusal::invalid(Invalid::UnknownColumn, at(message).column(extra)));
    }
    if change.modified_at.year() < 1 {
        let problem = year_zero(&change.modified_at);
        let message = format!("{place}, `modified_at`: {}", problem.message);
        return Err(Refusal::invalid(problem.why, at(message)));
    }
    if table.deletes == Deletes::Never {
        let message = format!(
            "{place}: table `{}` has no soft-delete column and no `deletes = \"hard\"`, so \
             clients cannot delete its rows",
            table.name
        );
        return Err(Refusal::invalid(Invalid::DeleteNotSupported, at(message)));
    }
    Ok(Change {
        table,
        key_text: key_text(table, &key),
        key,
        modified: change.modified_at,
        op: Op::Delete,
    })
}

/// The primary key columns of `values`, canonical.
fn key_of(table: &'static TableMeta, values: &Key) -> Result<Values, Refusal> {
    let mut key = Values::new();
    for name in table.primary_key {
        let column = table.column(name).expect("primary key columns are columns");
        let value = match values.get(*name) {
            None | Some(Value::Null) => {
                let message = format!(
                    "a change to table `{}` has no value for primary key column `{name}`",
                    table.name
                );
                let at = Located::table(table.name, message).column(name);
                return Err(Refusal::invalid(Invalid::MissingKey, at));
            }
            Some(value) => canonical(column, value.clone()).map_err(|problem| {
                let message = format!(
                    "table `{}`, primary key column `{name}`: {}",
                    table.name, problem.message
                );
                Refusal::invalid(problem.why, Located::table(table.name, message).column(name))
            })?,
        };
        key.insert((*name).to_owned(), value);
    }
    Ok(key)
}

/// The conflict time of the row with this key, which an upsert must carry.
fn conflict_time(table: &TableMeta, key: &Values, row: &Values) -> Result<DateTime<Utc>, Refusal> {
    let at = |message: String| Located::table(table.name, message).key(key);
    let Some(modified) = table.sync.modified else {
        let message = format!("table `{}` has no modified column to order writes by", table.name);
        return Err(Refusal::invalid(Invalid::NotSyncable, at(message)));
    };
    match row.get(modified) {
        Some(Value::String(text)) => Ok(wire::parse_timestamp(text).expect("canonical already")),
        _ => {
            let message = format!(
                "{}: column `{modified}` is required: it is the conflict time of last write wins",
                place_of(table.name, None)
            );
            Err(Refusal::invalid(Invalid::MissingColumn, at(message).column(modified)))
        }
    }
}

/// Why a value was refused: an invalid or a null value, and a sentence.
#[derive(Debug)]
pub(crate) struct Problem {
    pub why: Invalid,
    pub message: String,
}

fn invalid(message: impl Into<String>) -> Problem {
    Problem { why: Invalid::InvalidValue, message: message.into() }
}

/// A value in its canonical wire form (lower-case uuids, timestamps with milliseconds in UTC,
/// integers as integers, reals as floats, a float4's at its precision), or why it does not fit
/// the column.
pub(crate) fn canonical(column: &ColumnMeta, value: Value) -> Result<Value, Problem> {
    if value.is_null() {
        return if column.nullable {
            Ok(Value::Null)
        } else {
            Err(Problem { why: Invalid::NullValue, message: "must not be null".into() })
        };
    }
    let expected = |what: &str| invalid(format!("expected {what}, got {value}"));
    let canonical = match column.ty {
        LogicalType::Text => match &value {
            Value::String(s) if s.contains('\0') => return Err(nul()),
            Value::String(_) => value.clone(),
            _ => return Err(expected("a string")),
        },
        LogicalType::Uuid => match &value {
            Value::String(s) if is_canonical_uuid(s) => value.clone(),
            Value::String(s) => match uuid::Uuid::try_parse(s) {
                Ok(id) if s.len() == 36 => Value::String(id.hyphenated().to_string()),
                _ => return Err(invalid(format!("`{s}` is not a UUID (8-4-4-4-12 hex digits)"))),
            },
            _ => return Err(expected("a UUID string")),
        },
        LogicalType::Integer => match value.as_i64() {
            Some(i) if i32::try_from(i).is_ok() => Value::from(i),
            Some(_) => return Err(invalid(format!("{value} is outside the 32-bit integer range"))),
            None => return Err(expected("an integer")),
        },
        LogicalType::Bigint => match value.as_i64() {
            Some(i) => Value::from(wire::check_bigint(i).map_err(|e| invalid(e.to_string()))?),
            None => return Err(expected("an integer")),
        },
        LogicalType::Real => match value.as_f64() {
            // A float4 column holds a pushed number at its precision, in the form it is served.
            Some(x) if column.storage.postgres == Some(PostgresType::Real) => {
                let rounded = wire::round_to_float4(x).map_err(|e| invalid(e.to_string()))?;
                Value::Number(Number::from_f64(rounded).expect("a finite float"))
            }
            Some(x) => Value::Number(Number::from_f64(x).ok_or_else(|| expected("a number"))?),
            None => return Err(expected("a number")),
        },
        LogicalType::Boolean => match value {
            Value::Bool(_) => value.clone(),
            _ => return Err(expected("true or false")),
        },
        LogicalType::Timestamp => match &value {
            Value::String(s) if is_canonical_timestamp(s) => value.clone(),
            Value::String(s) => {
                let parsed = wire::parse_timestamp(s).map_err(|e| invalid(e.to_string()))?;
                Value::String(wire::format_timestamp(&parsed).map_err(|e| invalid(e.to_string()))?)
            }
            _ => return Err(expected("a timestamp string")),
        },
        LogicalType::Date => match &value {
            Value::String(s) => {
                let parsed = wire::parse_date(s).map_err(|e| invalid(e.to_string()))?;
                Value::String(wire::format_date(&parsed).map_err(|e| invalid(e.to_string()))?)
            }
            _ => return Err(expected("a date string")),
        },
        LogicalType::Json if holds_nul(&value) => return Err(nul()),
        LogicalType::Json => value.clone(),
    };
    if matches!(column.ty, LogicalType::Timestamp | LogicalType::Date)
        && canonical.as_str().is_some_and(|s| s.starts_with("0000-"))
    {
        return Err(year_zero(&canonical));
    }
    if let (Some(values), Value::String(s)) = (column.values, &canonical)
        && !values.contains(&s.as_str())
    {
        return Err(invalid(format!("`{s}` is not one of {}", values.join(", "))));
    }
    Ok(canonical)
}

/// Postgres has no year 0000 (1 BC precedes 1 AD) and refuses it as input, so such a time or
/// date is refused here, for both stores alike, rather than failing in the database.
fn year_zero(value: &dyn std::fmt::Display) -> Problem {
    invalid(format!("{value} is in year 0000, which Postgres cannot store; the earliest is 0001"))
}

/// Postgres cannot store U+0000 in `text` nor in a `jsonb` string or key, so such a value is
/// refused here, for both stores alike, rather than failing in the database as a server error.
fn nul() -> Problem {
    invalid("contains the character U+0000 (NUL), which Postgres cannot store")
}

fn holds_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
        _ => false,
    }
}

/// Whether `s` is a UUID in its canonical form (lower-case, hyphenated), which needs no rewrite.
fn is_canonical_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

/// Whether `s` is a timestamp in its canonical wire form (`2026-11-24T10:00:00.000Z`), which
/// the formatter would write back unchanged: most pushed values are, and parsing is the check.
fn is_canonical_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 24
        && b[10] == b'T'
        && b[19] == b'.'
        && b[23] == b'Z'
        && wire::parse_timestamp(s).is_ok()
}

/// Whether two canonical values of a column are the same value (a real read back from a
/// database may come as an integer).
pub(crate) fn same_value(column: &ColumnMeta, a: &Value, b: &Value) -> bool {
    match (column.ty, a.as_f64(), b.as_f64()) {
        (LogicalType::Real, Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
#[path = "validate/tests.rs"]
mod tests;
