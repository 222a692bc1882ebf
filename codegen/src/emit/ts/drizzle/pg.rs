//! `src/drizzle/pg.js` and `.d.ts`: the Postgres schema for the server, with `pgTable` from
//! `drizzle-orm/pg-core`, matching the Postgres DDL's types and storage overrides.

use super::{Dialect, Imports, literal};
use crate::ir::{Column, DefaultValue, Schema};
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
            type_check: |_, column| types::postgres_check(column.ty, column.storage),
            descending: |column, _| format!("{column}.desc()"),
            sql: crate::emit::sql::Dialect::Postgres,
        },
    )
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
