//! What the tests expect, written from docs/types.md independently of the emitters: the
//! stored type per database, which columns carry a CHECK, and values in their wire form.

use chrono::{DateTime, SecondsFormat, Utc};
use codegen::ir::{
    Column, DefaultValue, LogicalType, PostgresCheck, PostgresType, StoredAs, TimestampStorage,
};
use serde_json::Value;

/// A column default, as the database should produce it.
#[derive(Debug, Clone, PartialEq)]
pub enum ExpectedDefault {
    /// This exact value, in wire form.
    Value(Value),
    /// A fresh lower-case version 4 UUID.
    RandomUuid,
    /// The current time.
    Now,
    /// Today's date (UTC).
    Today,
}

pub fn expected_default(col: &Column) -> Option<ExpectedDefault> {
    Some(match col.default.as_ref()? {
        DefaultValue::Random => ExpectedDefault::RandomUuid,
        DefaultValue::Now if col.ty == LogicalType::Date => ExpectedDefault::Today,
        DefaultValue::Now => ExpectedDefault::Now,
        DefaultValue::Text(s) | DefaultValue::Timestamp(s) | DefaultValue::Date(s) => {
            ExpectedDefault::Value(Value::String(s.clone()))
        }
        DefaultValue::Integer(i) => ExpectedDefault::Value((*i).into()),
        DefaultValue::Real(f) => ExpectedDefault::Value((*f).into()),
        DefaultValue::Boolean(b) => ExpectedDefault::Value((*b).into()),
        DefaultValue::Json(s) => ExpectedDefault::Value(serde_json::from_str(s).expect("json")),
    })
}

/// Check a value the database produced for a default against what the schema asked for.
pub fn assert_default(what: &str, expected: &ExpectedDefault, actual: &Value) {
    match expected {
        ExpectedDefault::Value(v) => assert_eq!(actual, v, "default of {what}"),
        ExpectedDefault::RandomUuid => {
            let s = actual.as_str().unwrap_or_default();
            assert!(is_v4_uuid(s), "default of {what} is not a lower-case v4 UUID: {actual}");
        }
        ExpectedDefault::Now => {
            let s = actual.as_str().unwrap_or_default();
            let at = millis(s);
            let now = now().timestamp_millis();
            assert!((now - at).abs() < 60_000, "default of {what} is not now: {s}");
            assert_eq!(s, rfc3339(at), "default of {what} is not in canonical form");
        }
        ExpectedDefault::Today => {
            let today = now().date_naive().to_string();
            assert_eq!(actual.as_str(), Some(today.as_str()), "default of {what}");
        }
    }
}

/// The current time (chrono's `clock` feature is not needed for this).
fn now() -> DateTime<Utc> {
    std::time::SystemTime::now().into()
}

pub fn is_v4_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            14 => c == '4',
            19 => "89ab".contains(c),
            _ => c.is_ascii_digit() || ('a'..='f').contains(&c),
        })
}

/// Milliseconds since the epoch of an RFC 3339 timestamp.
pub fn millis(rfc3339_text: &str) -> i64 {
    DateTime::parse_from_rfc3339(rfc3339_text)
        .unwrap_or_else(|e| panic!("`{rfc3339_text}` is not RFC 3339: {e}"))
        .timestamp_millis()
}

/// The canonical wire form of a timestamp: UTC, milliseconds, `Z`.
pub fn rfc3339(millis: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(millis)
        .expect("timestamp in range")
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The declared SQLite type: canonical affinity names only.
pub fn sqlite_type(col: &Column, ts: TimestampStorage) -> &'static str {
    match col.ty {
        LogicalType::Integer | LogicalType::Bigint | LogicalType::Boolean => "INTEGER",
        LogicalType::Timestamp if ts == TimestampStorage::Integer => "INTEGER",
        LogicalType::Real => "REAL",
        _ => "TEXT",
    }
}

/// The Postgres type as `format_type()` prints it.
pub fn postgres_type(col: &Column) -> &'static str {
    match (col.ty, col.storage.postgres, col.storage.stored_as) {
        (LogicalType::Text, ..) => "text",
        (LogicalType::Uuid, ..) => "uuid",
        (LogicalType::Integer, ..) | (LogicalType::Boolean, _, Some(StoredAs::Integer)) => {
            "integer"
        }
        (LogicalType::Bigint, ..) => "bigint",
        (LogicalType::Real, Some(PostgresType::Real), _) => "real",
        (LogicalType::Real, ..) => "double precision",
        (LogicalType::Boolean, ..) => "boolean",
        (LogicalType::Timestamp, Some(PostgresType::Timestamp), _) => "timestamp without time zone",
        (LogicalType::Timestamp, Some(PostgresType::Timestamptz), _) => "timestamp with time zone",
        (LogicalType::Timestamp, ..) => "timestamp(3) with time zone",
        (LogicalType::Date, ..) => "date",
        (LogicalType::Json, _, Some(StoredAs::Text)) => "text",
        (LogicalType::Json, ..) => "jsonb",
    }
}

/// Whether SQLite needs a CHECK to hold the column to its logical type.
pub fn sqlite_has_check(col: &Column, ts: TimestampStorage) -> bool {
    col.values.is_some()
        || matches!(
            col.ty,
            LogicalType::Boolean
                | LogicalType::Json
                | LogicalType::Date
                | LogicalType::Uuid
                | LogicalType::Integer
                | LogicalType::Bigint
        )
        || (col.ty == LogicalType::Timestamp && ts == TimestampStorage::Text)
}

/// Whether Postgres has a CHECK on the column: its types enforce everything but enums and 0/1
/// booleans, and a legacy column may keep its own CHECK or none (`postgres_check`).
pub fn postgres_has_check(col: &Column) -> bool {
    match col.postgres_check {
        PostgresCheck::Omitted => false,
        PostgresCheck::Verbatim(_) => true,
        PostgresCheck::Generated => {
            col.values.is_some()
                || (col.ty == LogicalType::Boolean
                    && col.storage.stored_as == Some(StoredAs::Integer))
        }
    }
}
