//! `src/drizzle/pg.ts`: the Postgres schema for the server, with `pgTable` from
//! `drizzle-orm/pg-core`, matching the Postgres DDL's types and storage overrides.

use super::{Dialect, Imports, column_name, literal, values_check, values_ref};
use crate::ir::{Column, DefaultValue, LogicalType, PostgresType, Schema, StoredAs, Table};

/// A boolean kept as 0/1 in an integer column: a custom type so rows still read as booleans,
/// the type the rest of the package gives the column.
const INT_BOOLEAN: &str = r#"/** A boolean stored as 0/1 in an `integer` column (`storage = "integer"`). */
const intBoolean = customType<{ data: boolean; driverData: number }>({
  dataType: () => "integer",
  toDriver: (value) => (value ? 1 : 0),
  fromDriver: (value) => value === 1,
});
"#;

/// JSON kept in a text column, read and written as JSON values like `jsonb` columns.
const JSON_TEXT: &str = r#"/** JSON stored in a `text` column (`storage = "text"`). */
const jsonText = customType<{ data: unknown; driverData: string }>({
  dataType: () => "text",
  toDriver: (value) => JSON.stringify(value),
  fromDriver: (value): unknown => JSON.parse(value),
});
"#;

pub(in crate::emit::ts) fn emit(schema: &Schema) -> String {
    super::emit(
        schema,
        &Dialect {
            core: "drizzle-orm/pg-core",
            table_fn: "pgTable",
            includes: |t| t.targets.postgres,
            column,
            default,
            column_check,
            descending: |column, _| format!("{column}.desc()"),
        },
    )
}

fn column(_: &Schema, table: &Table, column: &Column, imports: &mut Imports) -> String {
    let name = column_name(table, column);
    if column.values.is_some() {
        return format!(
            "{}({name}, {{ enum: {} }})",
            imports.core("text"),
            values_ref(table, column)
        );
    }
    let stored_as = column.storage.stored_as;
    let postgres = column.storage.postgres;
    let (function, config) = match column.ty {
        LogicalType::Text => ("text", ""),
        LogicalType::Uuid => ("uuid", ""),
        LogicalType::Integer => ("integer", ""),
        LogicalType::Bigint => ("bigint", ", { mode: \"number\" }"),
        LogicalType::Real if postgres == Some(PostgresType::Real) => ("real", ""),
        LogicalType::Real => ("doublePrecision", ""),
        LogicalType::Boolean if stored_as == Some(StoredAs::Integer) => {
            imports.core("customType");
            imports.preamble.insert(INT_BOOLEAN);
            return format!("intBoolean({name})");
        }
        LogicalType::Boolean => ("boolean", ""),
        LogicalType::Timestamp => match postgres {
            Some(PostgresType::Timestamp) => ("timestamp", ", { mode: \"string\" }"),
            Some(PostgresType::Timestamptz) => {
                ("timestamp", ", { withTimezone: true, mode: \"string\" }")
            }
            _ => ("timestamp", ", { withTimezone: true, precision: 3, mode: \"string\" }"),
        },
        LogicalType::Date => ("date", ", { mode: \"string\" }"),
        LogicalType::Json if stored_as == Some(StoredAs::Text) => {
            imports.core("customType");
            imports.preamble.insert(JSON_TEXT);
            return format!("jsonText({name})");
        }
        LogicalType::Json => ("jsonb", ""),
    };
    format!("{}({name}{config})", imports.core(function))
}

fn default(_: &Schema, _: &Column, value: &DefaultValue, _: &mut Imports) -> String {
    match value {
        DefaultValue::Random => ".defaultRandom()".into(),
        DefaultValue::Now => ".defaultNow()".into(),
        literal_value => {
            format!(".default({})", literal(literal_value).expect("not Random or Now"))
        }
    }
}

fn column_check(column: &Column, column_ref: &str) -> Option<String> {
    if column.ty == LogicalType::Boolean && column.storage.stored_as == Some(StoredAs::Integer) {
        return Some(format!("${{{column_ref}}} IN (0, 1)"));
    }
    values_check(column, column_ref)
}
