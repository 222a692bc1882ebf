//! Values between their wire form (docs/types.md) and the form the generated SQLite DDL
//! stores them in: shared by the embedded SQLite store and the client.

use rusqlite::types::{Value as SqlValue, ValueRef};
use serde_json::{Number, Value};

use crate::schema::LogicalType;
use crate::wire::{format_timestamp, parse_timestamp};

/// How one column is kept in SQLite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Storage {
    /// `text`, `uuid`, `date` and enum columns: TEXT holding the wire string itself.
    Text,
    /// `integer` and `bigint`: INTEGER.
    Integer,
    /// `real`: REAL, always served as a float so that `2.0` stays `2.0` (the engine compares
    /// values for equality).
    Real,
    /// `boolean`: INTEGER 0 or 1.
    Boolean,
    /// `timestamp` with `timestamp_storage = "text"`: RFC 3339 text with milliseconds.
    TimestampText,
    /// `timestamp` with `timestamp_storage = "integer"`: milliseconds since the Unix epoch.
    TimestampMillis,
    /// `json`: TEXT holding the JSON document (text that is not JSON reads as a JSON string).
    Json,
}

impl Storage {
    /// The storage of a column of logical type `ty` whose declared type in the database is
    /// `declared`. The metadata does not say how the schema stores timestamps, the table does.
    pub(crate) fn of(ty: LogicalType, declared: &str) -> Result<Storage, String> {
        Ok(match ty {
            LogicalType::Text | LogicalType::Uuid | LogicalType::Date => Storage::Text,
            LogicalType::Integer | LogicalType::Bigint => Storage::Integer,
            LogicalType::Real => Storage::Real,
            LogicalType::Boolean => Storage::Boolean,
            LogicalType::Json => Storage::Json,
            LogicalType::Timestamp if declared.eq_ignore_ascii_case("TEXT") => {
                Storage::TimestampText
            }
            LogicalType::Timestamp if declared.eq_ignore_ascii_case("INTEGER") => {
                Storage::TimestampMillis
            }
            LogicalType::Timestamp => {
                return Err(format!(
                    "a timestamp column is declared `{declared}`; the generated DDL declares TEXT or INTEGER"
                ));
            }
        })
    }

    /// The wire form of a stored value.
    pub(crate) fn to_wire(self, value: ValueRef<'_>) -> Result<Value, String> {
        let text = |bytes: &[u8]| {
            std::str::from_utf8(bytes)
                .map(str::to_owned)
                .map_err(|_| "text is not UTF-8".to_owned())
        };
        match (self, value) {
            (_, ValueRef::Null) => Ok(Value::Null),
            (Storage::Text, ValueRef::Text(bytes)) => text(bytes).map(Value::String),
            (Storage::Integer, ValueRef::Integer(i)) => Ok(Value::from(i)),
            (Storage::Real, ValueRef::Real(f)) => float(f),
            // SQLite may hand back a whole REAL as an INTEGER in a table that is not STRICT.
            (Storage::Real, ValueRef::Integer(i)) => float(i as f64),
            (Storage::Boolean, ValueRef::Integer(0)) => Ok(Value::Bool(false)),
            (Storage::Boolean, ValueRef::Integer(1)) => Ok(Value::Bool(true)),
            (Storage::TimestampText, ValueRef::Text(bytes)) => {
                let stored = text(bytes)?;
                let parsed = parse_timestamp(&stored).map_err(|e| e.to_string())?;
                format_timestamp(&parsed).map(Value::String).map_err(|e| e.to_string())
            }
            (Storage::TimestampMillis, ValueRef::Integer(millis)) => {
                let parsed = chrono::DateTime::from_timestamp_millis(millis)
                    .ok_or_else(|| format!("{millis} ms since the epoch is out of range"))?;
                format_timestamp(&parsed).map(Value::String).map_err(|e| e.to_string())
            }
            // Text that is not JSON (written by other means, such as a legacy database without
            // the CHECK) is served as a JSON string of it, like the Postgres store does.
            (Storage::Json, ValueRef::Text(bytes)) => {
                serde_json::from_slice(bytes).or_else(|_| text(bytes).map(Value::String))
            }
            (storage, other) => Err(format!(
                "stored {} value {} does not fit a {storage:?} column",
                other.data_type(),
                describe_stored(other)
            )),
        }
    }

    /// The stored form of a wire value.
    pub(crate) fn to_sql(self, value: &Value) -> Result<SqlValue, String> {
        match (self, value) {
            (_, Value::Null) => Ok(SqlValue::Null),
            (Storage::Text, Value::String(s)) => Ok(SqlValue::Text(s.clone())),
            (Storage::Integer, Value::Number(n)) => {
                n.as_i64().map(SqlValue::Integer).ok_or_else(|| format!("{n} is not an integer"))
            }
            (Storage::Real, Value::Number(n)) => {
                n.as_f64().map(SqlValue::Real).ok_or_else(|| format!("{n} is not a float"))
            }
            (Storage::Boolean, Value::Bool(b)) => Ok(SqlValue::Integer(i64::from(*b))),
            (Storage::TimestampText, Value::String(s)) => {
                let parsed = parse_timestamp(s).map_err(|e| e.to_string())?;
                format_timestamp(&parsed).map(SqlValue::Text).map_err(|e| e.to_string())
            }
            (Storage::TimestampMillis, Value::String(s)) => {
                let parsed = parse_timestamp(s).map_err(|e| e.to_string())?;
                Ok(SqlValue::Integer(parsed.timestamp_millis()))
            }
            (Storage::Json, value) => Ok(SqlValue::Text(value.to_string())),
            (storage, value) => Err(format!("{value} does not fit a {storage:?} column")),
        }
    }

    /// The wire form of a value of a key that SQLite's `json_object()` wrote, in stored form,
    /// into `_sync_tombstone`.
    pub(crate) fn json_to_wire(self, value: &Value) -> Result<Value, String> {
        let stored = match value {
            Value::Null => SqlValue::Null,
            Value::Number(n) => match n.as_i64() {
                Some(i) => SqlValue::Integer(i),
                None => SqlValue::Real(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(s) => SqlValue::Text(s.clone()),
            other => return Err(format!("unexpected {other} in a stored key")),
        };
        self.to_wire(ValueRef::from(&stored))
    }
}

fn float(f: f64) -> Result<Value, String> {
    Number::from_f64(f).map(Value::Number).ok_or_else(|| format!("{f} has no JSON form"))
}

fn describe_stored(value: ValueRef<'_>) -> String {
    match value {
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(f) => f.to_string(),
        ValueRef::Text(t) => format!("`{}`", String::from_utf8_lossy(t)),
        ValueRef::Blob(b) => format!("of {} bytes", b.len()),
        ValueRef::Null => "NULL".to_owned(),
    }
}
