//! `src/drizzle/pg.js` and `.d.ts`: the Postgres schema for the server, with `pgTable` from
//! `drizzle-orm/pg-core`, matching the Postgres DDL's types and storage overrides.

use super::{Dialect, Imports, literal};
use crate::ir::{Column, DefaultValue, Schema, StoredAs};
use crate::types;

pub(in crate::emit::ts) fn emit(schema: &Schema) -> (String, String) {
    super::emit(
        schema,
        &Dialect {
            core: "drizzle-orm/pg-core",
            table_type: "PgTableWithColumns",
            name: "pg",
            table_fn: "pgTable",
            includes: |t| t.targets.postgres,
            column: |_, column| types::postgres_type(column.ty, column.storage).drizzle,
            default,
            // Postgres's `DESC` puts NULLs first, as drizzle-kit reads it back; Drizzle's
            // `.desc()` alone would be `DESC NULLS LAST`.
            descending: |column, _| format!("{column}.desc().nullsFirst()"),
            sql: crate::emit::sql::Dialect::Postgres,
        },
    )
}

/// The default as drizzle-kit reads it back from Postgres, which shows some literals quoted
/// (`'-1'::integer`, `'1999-12-31 23:59:59.999+00'::timestamp with time zone`): drizzle-kit
/// takes those for SQL expressions, and would plan a new default unless the schema says the same.
fn default(_: &Schema, column: &Column, value: &DefaultValue, imports: &mut Imports) -> String {
    let stored_as = column.storage.stored_as;
    match value {
        DefaultValue::Random => ".defaultRandom()".into(),
        DefaultValue::Now => ".defaultNow()".into(),
        // A negative number, or one too big for `integer` (a `bigint` constant).
        DefaultValue::Integer(i) if *i < 0 || *i > i64::from(i32::MAX) => {
            format!(".default({})", imports.sql(&format!("'{i}'")))
        }
        DefaultValue::Real(r) if *r < 0.0 => {
            format!(".default({})", imports.sql(&format!("'{r}'")))
        }
        // Shown in the session's time zone: UTC, as the server's sessions run.
        DefaultValue::Timestamp(at) => {
            let zoned =
                types::postgres_type(column.ty, column.storage).ddl.starts_with("timestamptz");
            format!(".default({})", imports.sql(&format!("'{}'", postgres_timestamp(at, zoned))))
        }
        // The value the column stores: a custom type's default is not converted to it.
        DefaultValue::Boolean(b) if stored_as == Some(StoredAs::Integer) => {
            format!(".default({})", u8::from(*b))
        }
        DefaultValue::Json(json) if stored_as == Some(StoredAs::Text) => {
            format!(".default({})", super::string_lit(json))
        }
        literal_value => {
            format!(".default({})", literal(literal_value).expect("not Random or Now"))
        }
    }
}

/// `1999-12-31 23:59:59.999+00`: how Postgres shows the timestamp `1999-12-31T23:59:59.999Z`
/// in UTC, without the trailing zeros of its fraction (and the offset, `zoned` or not).
fn postgres_timestamp(rfc3339: &str, zoned: bool) -> String {
    let utc = rfc3339.trim_end_matches('Z').replace('T', " ");
    let shown = match utc.split_once('.') {
        Some((seconds, fraction)) if fraction.trim_end_matches('0').is_empty() => seconds.into(),
        Some((seconds, fraction)) => format!("{seconds}.{}", fraction.trim_end_matches('0')),
        None => utc,
    };
    if zoned { format!("{shown}+00") } else { shown }
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_read_as_postgres_shows_them() {
        let shown = super::postgres_timestamp;
        assert_eq!(shown("1999-12-31T23:59:59.999Z", true), "1999-12-31 23:59:59.999+00");
        assert_eq!(shown("2024-01-01T00:00:00.500Z", true), "2024-01-01 00:00:00.5+00");
        assert_eq!(shown("2024-01-01T00:00:00.000Z", false), "2024-01-01 00:00:00");
    }
}
