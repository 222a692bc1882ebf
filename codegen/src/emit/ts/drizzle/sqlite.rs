//! `src/drizzle/sqlite.js` and `.d.ts`: the SQLite schema for the client, with `sqliteTable` from
//! `drizzle-orm/sqlite-core`, matching the SQLite DDL's storage (docs/types.md).

use super::{Dialect, Imports, literal};
use crate::ir::{Column, DefaultValue, LogicalType, Schema, TimestampStorage};
use crate::types::{self, DrizzleColumn};

pub(in crate::emit::ts) fn emit(schema: &Schema) -> (String, String) {
    super::emit(
        schema,
        &Dialect {
            core: "drizzle-orm/sqlite-core",
            table_type: "SQLiteTableWithColumns",
            name: "sqlite",
            table_fn: "sqliteTable",
            includes: |t| t.targets.sqlite,
            column,
            default,
            descending: |column, imports| {
                // SQLite columns have no `.desc()` in Drizzle; an SQL expression orders the index.
                imports.sql = true;
                format!("sql`${{{column}}} desc`")
            },
            sql: crate::emit::sql::Dialect::Sqlite,
        },
    )
}

fn column(schema: &Schema, column: &Column) -> DrizzleColumn {
    types::drizzle_sqlite(column.ty, schema.timestamp_storage)
}

fn default(
    schema: &Schema,
    column: &Column,
    value: &DefaultValue,
    imports: &mut Imports,
) -> String {
    let integer_time = column.ty == LogicalType::Timestamp
        && schema.timestamp_storage == TimestampStorage::Integer;
    match value {
        // SQLite has no UUID function; the client makes one, as browsers and Node.js both can.
        DefaultValue::Random => ".$defaultFn(() => crypto.randomUUID())".into(),
        DefaultValue::Now => {
            let now = match column.ty {
                LogicalType::Date => "(date('now'))",
                // Rounded like the SQLite DDL's default: truncating can lose a millisecond.
                _ if integer_time => "(CAST(round(unixepoch('subsec') * 1000) AS INTEGER))",
                _ => "(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            };
            format!(".default({})", imports.sql(now))
        }
        // Integer storage keeps milliseconds since the epoch; the literal is normalised RFC 3339.
        DefaultValue::Timestamp(at) if integer_time => {
            format!(".default(Date.parse({}))", super::string_lit(at))
        }
        literal_value => {
            format!(".default({})", literal(literal_value).expect("not Random or Now"))
        }
    }
}
