//! Real SQLite for the tests: a database with the generated DDL, and values in and out of it
//! in their wire form.

use codegen::ir::{Column, LogicalType, TimestampStorage};
use rusqlite::Connection;
use rusqlite::types::{Value as Sql, ValueRef};
use serde_json::Value;

use crate::wire::{millis, rfc3339};

/// An in-memory database with foreign keys enforced and `ddl` applied.
pub fn open(ddl: &str) -> Connection {
    let conn = Connection::open_in_memory().expect("open SQLite");
    conn.pragma_update(None, "foreign_keys", true).expect("enable foreign keys");
    conn.execute_batch(ddl).unwrap_or_else(|e| panic!("SQLite rejects the DDL: {e}\n{ddl}"));
    conn
}

/// A wire value as the generated SQLite schema stores it.
pub fn encode(col: &Column, ts: TimestampStorage, value: &Value) -> Sql {
    match (col.ty, value) {
        (_, Value::Null) => Sql::Null,
        (LogicalType::Boolean, Value::Bool(b)) => Sql::Integer(i64::from(*b)),
        (LogicalType::Integer | LogicalType::Bigint, Value::Number(n)) => {
            Sql::Integer(n.as_i64().expect("an integer"))
        }
        (LogicalType::Real, Value::Number(n)) => Sql::Real(n.as_f64().expect("a number")),
        (LogicalType::Timestamp, Value::String(s)) if ts == TimestampStorage::Integer => {
            Sql::Integer(millis(s))
        }
        (LogicalType::Json, v) => Sql::Text(v.to_string()),
        (_, Value::String(s)) => Sql::Text(s.clone()),
        (ty, v) => panic!("{v} is not a wire value of type {}", ty.as_str()),
    }
}

/// A stored SQLite value back in wire form; a value of the wrong storage class fails.
pub fn decode(col: &Column, ts: TimestampStorage, value: ValueRef<'_>) -> Value {
    let text =
        |v: ValueRef<'_>| v.as_str().unwrap_or_else(|e| panic!("{}: {e}", col.name)).to_owned();
    let int = |v: ValueRef<'_>| v.as_i64().unwrap_or_else(|e| panic!("{}: {e}", col.name));
    match (col.ty, value) {
        (_, ValueRef::Null) => Value::Null,
        (LogicalType::Boolean, v) => match int(v) {
            0 => false.into(),
            1 => true.into(),
            other => panic!("{}: {other} is not a boolean", col.name),
        },
        (LogicalType::Integer | LogicalType::Bigint, v) => int(v).into(),
        (LogicalType::Real, v) => v.as_f64().unwrap_or_else(|e| panic!("{}: {e}", col.name)).into(),
        (LogicalType::Timestamp, v) if ts == TimestampStorage::Integer => rfc3339(int(v)).into(),
        (LogicalType::Json, v) => serde_json::from_str(&text(v)).expect("stored JSON is valid"),
        (_, v) => text(v).into(),
    }
}
