//! Display names of a column's type in every target (DESIGN section 4), for documentation.
//!
//! Each name comes from the emitter that writes that target, so the documentation cannot drift
//! from the generated code: the SQL and TypeScript mappings are the emitters' own functions, and
//! the Rust name is read off the tokens the Rust emitter generates.

use crate::emit::sql::{Dialect, sql_type};
use crate::emit::{rust, ts};
use crate::ir::{Column, Schema, Table};

/// The SQLite column type: the canonical affinity names.
pub(crate) fn sqlite_type(schema: &Schema, column: &Column) -> &'static str {
    sql_type(column, Dialect::Sqlite, schema.timestamp_storage)
}

/// The Postgres column type, storage overrides included.
pub(crate) fn postgres_type(schema: &Schema, column: &Column) -> &'static str {
    sql_type(column, Dialect::Postgres, schema.timestamp_storage)
}

/// The TypeScript type of the column's values (without `| null`); an enum is its union type.
pub(crate) fn ts_type(table: &Table, column: &Column) -> String {
    ts::value_type(table, column)
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
                    postgres_type(&schema, c).to_owned(),
                    ts_type(table, c),
                    rust_type(table, c),
                ]
            })
            .collect();
        let expected = [
            ["TEXT", "uuid", "string", "uuid::Uuid"],
            ["TEXT", "text", "ItemType", "item::Type"],
            ["INTEGER", "timestamptz(3)", "string", "chrono::DateTime<chrono::Utc>"],
            ["TEXT", "text", "string", "String"],
            ["TEXT", "text", "unknown", "serde_json::Value"],
        ];
        assert_eq!(names, expected.map(|row| row.map(str::to_owned)));
    }
}
