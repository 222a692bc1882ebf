//! SQL DDL: `sql/sqlite.sql` and `sql/postgres.sql` from the IR.
//!
//! One path for both databases: the IR becomes sea-query statements (`table`), built with
//! `SqliteQueryBuilder` or `PostgresQueryBuilder`; what sea-query cannot say (comments, SQLite's
//! `STRICT`, `COMMENT ON`) is laid out by a small minijinja template per dialect, kept next to
//! this file. The Postgres sync machinery (`sync`) is more template blocks fed by one more
//! field of `TableSql`; the client's outbox machinery (`client`) closes the SQLite file.

mod client;
mod column;

pub(crate) use column::{DefaultSql, check_expr, default_sql, ident, sql_type};
mod sync;
mod table;

use minijinja::{Environment, context};
use sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};

use crate::GENERATED_NOTICE;
use crate::ir::Schema;

use table::{TableSql, table_sql};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// The SQLite schema: STRICT tables with the canonical affinities.
pub fn sqlite(schema: &Schema) -> String {
    let tables = schema
        .tables
        .iter()
        .filter(|t| t.targets.sqlite)
        .map(|t| {
            table_sql::<SqliteQueryBuilder>(t, Dialect::Sqlite, schema.timestamp_storage, None)
        })
        .collect();
    let client = context! {
        client => client::client_tables(schema),
        state => client::STATE,
        outbox => client::OUTBOX,
        version => schema.version,
        random_uuid => column::SQLITE_RANDOM_UUID,
        now => format!("strftime('{}', 'now')", column::TIMESTAMP_FORMAT),
    };
    render("sqlite.sql", include_str!("sqlite.sql.jinja"), tables, client)
}

/// The Postgres schema, with `COMMENT ON` for every documented table and column, and the
/// server's sync machinery for every synced table.
pub fn postgres(schema: &Schema) -> String {
    let tables = schema
        .tables
        .iter()
        .filter(|t| t.targets.postgres)
        .map(|t| {
            let sync = sync::table_sync(schema, t);
            table_sql::<PostgresQueryBuilder>(t, Dialect::Postgres, schema.timestamp_storage, sync)
        })
        .collect();
    let sync = context! { cursor => sync::CURSOR, tombstone => sync::TOMBSTONE };
    render("postgres.sql", include_str!("postgres.sql.jinja"), tables, sync)
}

/// Render a dialect's template with its tables and the dialect's own context.
fn render(name: &str, template: &str, tables: Vec<TableSql>, extra: minijinja::Value) -> String {
    let mut env = Environment::new();
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(true);
    env.add_filter("literal", |s: &str| column::literal(s));
    env.template_from_named_str(name, template)
        .and_then(|t| {
            t.render(context! {
                notice => GENERATED_NOTICE,
                tables,
                ..extra
            })
        })
        .expect("the SQL templates render every schema")
}
