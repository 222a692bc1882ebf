//! Rows from Postgres to wire JSON (docs/types.md), written directly from the binary protocol.
//!
//! Building JSON in SQL (`json_build_object`, `to_char`) costs Postgres more than reading the
//! rows themselves; decoding the binary values here and writing the text once is several times
//! cheaper, and runs on the server instance rather than the shared database. The `SELECT` list
//! ([`select_item`]) casts each column to the one type its logical type is decoded from, so
//! legacy storage (`timestamp` without a time zone, `json`, `smallint`) reads the same. Two
//! storage overrides are served in their own way (docs/types.md): a float4 `real` as the
//! shortest decimal that reads back as the same float4, and JSON kept in `text` as JSON even
//! when the text is not.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};
use tokio_postgres::Row;
use tokio_postgres::types::Type;

use super::sql::quote;
use crate::schema::{ColumnMeta, LogicalType, PostgresType, StoredAs};
use crate::store::StoreError;
use crate::wire;

/// The select list item of `alias.column`, cast to what [`write_value`] decodes.
pub(super) fn select_item(alias: &str, column: &ColumnMeta, pg_type: &str) -> String {
    let c = format!("{alias}.{}", quote(column.name));
    match column.ty {
        // Decoded as they are: `timestamptz` is UTC on the wire, and a column without a time
        // zone holds UTC by the schema's convention.
        LogicalType::Timestamp if pg_type.starts_with("timestamp") => c,
        LogicalType::Timestamp => format!("{c}::timestamptz"),
        LogicalType::Date => format!("{c}::date"),
        LogicalType::Uuid => format!("{c}::uuid"),
        LogicalType::Integer => format!("{c}::int4"),
        LogicalType::Bigint => format!("{c}::int8"),
        // A float4 is read as one, to be served at its own precision.
        LogicalType::Real if column.storage.postgres == Some(PostgresType::Real) => {
            format!("{c}::float4")
        }
        LogicalType::Real => format!("{c}::float8"),
        LogicalType::Boolean => format!("{c}::bool"),
        LogicalType::Text | LogicalType::Json => format!("{c}::text"),
    }
}

/// `{"a":1,"b":"x"}` from `row`'s values `offset..`, one per column of `columns`.
pub(super) fn object(
    row: &Row,
    offset: usize,
    columns: &[&ColumnMeta],
) -> Result<String, StoreError> {
    let mut out = Vec::with_capacity(64 * columns.len());
    write(&mut out, row, offset, columns, true)?;
    text(out)
}

/// `[1,"x"]` from `row`'s values `offset..`, one per column of `columns`.
pub(super) fn array(
    row: &Row,
    offset: usize,
    columns: &[&ColumnMeta],
) -> Result<String, StoreError> {
    let mut out = Vec::with_capacity(64 * columns.len());
    write(&mut out, row, offset, columns, false)?;
    text(out)
}

/// A pulled row as the response carries it, `{"table":"t","row":{...}}`, where `prefix` is
/// `{"table":"t","row":` and the row is `row`'s values `offset..`, one per column of `columns`.
pub(super) fn pulled_row(
    prefix: &str,
    row: &Row,
    offset: usize,
    columns: &[&ColumnMeta],
) -> Result<String, StoreError> {
    let mut out = Vec::with_capacity(prefix.len() + 1 + 64 * columns.len());
    out.extend_from_slice(prefix.as_bytes());
    write(&mut out, row, offset, columns, true)?;
    out.push(b'}');
    text(out)
}

/// Text this module wrote: every piece of it is UTF-8 already.
fn text(out: Vec<u8>) -> Result<String, StoreError> {
    String::from_utf8(out).map_err(|e| StoreError::Database(e.to_string()))
}

fn write(
    out: &mut Vec<u8>,
    row: &Row,
    offset: usize,
    columns: &[&ColumnMeta],
    named: bool,
) -> Result<(), StoreError> {
    out.push(if named { b'{' } else { b'[' });
    for (i, column) in columns.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if named {
            serde_json::to_writer(&mut *out, column.name).map_err(json)?;
            out.push(b':');
        }
        write_value(out, row, offset + i, column)?;
    }
    out.push(if named { b'}' } else { b']' });
    Ok(())
}

fn write_value(
    out: &mut Vec<u8>,
    row: &Row,
    i: usize,
    column: &ColumnMeta,
) -> Result<(), StoreError> {
    let get = |e: tokio_postgres::Error| {
        StoreError::Database(format!("reading column `{}`: {e}", column.name))
    };
    macro_rules! value {
        ($ty:ty) => {
            match row.try_get::<_, Option<$ty>>(i).map_err(get)? {
                Some(value) => value,
                None => {
                    out.extend_from_slice(b"null");
                    return Ok(());
                }
            }
        };
    }
    match column.ty {
        LogicalType::Text => serde_json::to_writer(&mut *out, value!(&str)).map_err(json)?,
        LogicalType::Json if column.storage.stored_as == Some(StoredAs::Text) => {
            write_json_text(out, value!(&str))?
        }
        LogicalType::Json => out.extend_from_slice(value!(&str).as_bytes()),
        LogicalType::Uuid => {
            // Read before writing anything: a NULL writes `null` and returns.
            let id = value!(uuid::Uuid);
            let mut text = [0; uuid::fmt::Hyphenated::LENGTH];
            out.push(b'"');
            out.extend_from_slice(id.hyphenated().encode_lower(&mut text).as_bytes());
            out.push(b'"');
        }
        LogicalType::Integer => serde_json::to_writer(&mut *out, &value!(i32)).map_err(json)?,
        LogicalType::Bigint => serde_json::to_writer(&mut *out, &value!(i64)).map_err(json)?,
        LogicalType::Real if *row.columns()[i].type_() == Type::FLOAT4 => {
            serde_json::to_writer(&mut *out, &wire::float4(value!(f32))).map_err(json)?
        }
        LogicalType::Real => serde_json::to_writer(&mut *out, &value!(f64)).map_err(json)?,
        LogicalType::Boolean => {
            out.extend_from_slice(if value!(bool) { b"true" } else { b"false" })
        }
        LogicalType::Timestamp if *row.columns()[i].type_() == Type::TIMESTAMPTZ => {
            write_timestamp(out, value!(DateTime<Utc>).naive_utc())?
        }
        LogicalType::Timestamp => write_timestamp(out, value!(NaiveDateTime))?,
        LogicalType::Date => write_date(out, value!(NaiveDate))?,
    }
    Ok(())
}

/// JSON kept in a `text` column: the document as it is when it is JSON, and otherwise (legacy
/// text written by other means) the text as a JSON string, so that one such value never fails
/// a pull. A number too large for a double counts as not JSON, as it would fail the row.
fn write_json_text(out: &mut Vec<u8>, text: &str) -> Result<(), StoreError> {
    if serde_json::from_str::<serde_json::Value>(text).is_ok() {
        out.extend_from_slice(text.as_bytes());
    } else {
        serde_json::to_writer(&mut *out, text).map_err(json)?;
    }
    Ok(())
}

/// `"2026-11-24T10:00:00.000Z"`: milliseconds, truncated like the wire format wants.
fn write_timestamp(out: &mut Vec<u8>, at: NaiveDateTime) -> Result<(), StoreError> {
    let (date, time) = (at.date(), at.time());
    write_date(out, date)?;
    out.pop();
    out.push(b'T');
    digits(out, time.hour(), 2);
    out.push(b':');
    digits(out, time.minute(), 2);
    out.push(b':');
    digits(out, time.second(), 2);
    out.push(b'.');
    digits(out, time.nanosecond().min(999_999_999) / 1_000_000, 3);
    out.extend_from_slice(b"Z\"");
    Ok(())
}

fn write_date(out: &mut Vec<u8>, date: NaiveDate) -> Result<(), StoreError> {
    let year = u32::try_from(date.year()).ok().filter(|y| *y <= 9999).ok_or_else(|| {
        StoreError::Database(format!(
            "year {} has no wire form (RFC 3339 years are 0000..=9999)",
            date.year()
        ))
    })?;
    out.push(b'"');
    digits(out, year, 4);
    out.push(b'-');
    digits(out, date.month(), 2);
    out.push(b'-');
    digits(out, date.day(), 2);
    out.push(b'"');
    Ok(())
}

/// `value` in decimal, zero-padded to `width` digits (values have at most `width` digits).
fn digits(out: &mut Vec<u8>, value: u32, width: u32) {
    for place in (0..width).rev() {
        out.push(b'0' + (value / 10u32.pow(place) % 10) as u8);
    }
}

fn json(error: serde_json::Error) -> StoreError {
    StoreError::Database(format!("writing JSON: {error}"))
}
