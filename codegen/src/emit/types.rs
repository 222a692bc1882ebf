//! Display names of a column's type in every target (DESIGN section 4), for documentation.
//!
//! The Rust name is read off the tokens the Rust emitter generates, so it cannot drift from the
//! generated crate. The SQL and TypeScript emitters keep their mappings private to their modules
//! for now; these functions are the shared spelling they can move to.

use crate::emit::rust;
use crate::ir::{Column, LogicalType, PostgresType, Schema, StoredAs, Table, TimestampStorage};

/// The SQLite column type: the canonical affinity names.
pub(crate) fn sqlite_type(schema: &Schema, column: &Column) -> &'static str {
    match column.ty {
        LogicalType::Text | LogicalType::Uuid | LogicalType::Date | LogicalType::Json => "TEXT",
        LogicalType::Integer | LogicalType::Bigint | LogicalType::Boolean => "INTEGER",
        LogicalType::Real => "REAL",
        LogicalType::Timestamp => match schema.timestamp_storage {
            TimestampStorage::Text => "TEXT",
            TimestampStorage::Integer => "INTEGER",
        },
    }
}

/// The Postgres column type, storage overrides included.
pub(crate) fn postgres_type(column: &Column) -> &'static str {
    match column.ty {
        LogicalType::Text => "text",
        LogicalType::Uuid => "uuid",
        LogicalType::Integer => "integer",
        LogicalType::Bigint => "bigint",
        LogicalType::Real => match column.storage.postgres {
            Some(PostgresType::Real) => "real",
            _ => "double precision",
        },
        LogicalType::Boolean => match column.storage.stored_as {
            Some(StoredAs::Integer) => "integer",
            _ => "boolean",
        },
        LogicalType::Timestamp => match column.storage.postgres {
            Some(PostgresType::Timestamp) => "timestamp",
            Some(PostgresType::Timestamptz) => "timestamptz",
            _ => "timestamptz(3)",
        },
        LogicalType::Date => "date",
        LogicalType::Json => match column.storage.stored_as {
            Some(StoredAs::Text) => "text",
            _ => "jsonb",
        },
    }
}

/// The TypeScript type of the column's values (without `| null`); an enum is its union of
/// string literals.
pub(crate) fn ts_type(column: &Column) -> String {
    if let Some(values) = &column.values {
        let literals: Vec<String> =
            values.iter().map(|v| serde_json::Value::from(v.as_str()).to_string()).collect();
        return literals.join(" | ");
    }
    match column.ty {
        LogicalType::Text | LogicalType::Uuid | LogicalType::Timestamp | LogicalType::Date => {
            "string".into()
        }
        LogicalType::Integer | LogicalType::Bigint | LogicalType::Real => "number".into(),
        LogicalType::Boolean => "boolean".into(),
        LogicalType::Json => "unknown".into(),
    }
}

/// The Rust type of the column's values (without `Option`), as the generated crate spells it
/// minus the absolute-path prefixes: `uuid::Uuid`, `chrono::DateTime<chrono::Utc>`, `tune::Type`.
pub(crate) fn rust_type(table: &Table, column: &Column) -> String {
    let tokens: String = rust::value_type(table, column).to_string().split_whitespace().collect();
    tokens.replace("::std::string::", "").replace("<::", "<").trim_start_matches("::").to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = r#"
        [schema]
        name = "t"
        version = 1
        timestamp_storage = "integer"

        [tables.item]
        [tables.item.columns]
        id = { type = "uuid", primary_key = true }
        type = { type = "text", values = ["a", "b"] }
        at = { type = "timestamp" }
        name = { type = "text" }
        raw = { type = "json", storage = "text" }
    "#;

    #[test]
    fn every_target_has_a_name() {
        let schema = crate::load("schema.toml", SCHEMA).expect("valid");
        let table = &schema.tables[0];
        let names: Vec<[String; 4]> = table
            .columns
            .iter()
            .map(|c| {
                [
                    sqlite_type(&schema, c).to_owned(),
                    postgres_type(c).to_owned(),
                    ts_type(c),
                    rust_type(table, c),
                ]
            })
            .collect();
        let expected = [
            ["TEXT", "uuid", "string", "uuid::Uuid"],
            ["TEXT", "text", r#""a" | "b""#, "item::Type"],
            ["INTEGER", "timestamptz(3)", "string", "chrono::DateTime<chrono::Utc>"],
            ["TEXT", "text", "string", "String"],
            ["TEXT", "text", "unknown", "serde_json::Value"],
        ];
        assert_eq!(names, expected.map(|row| row.map(str::to_owned)));
    }
}
