//! SQL DDL: `sql/sqlite.sql` (devices), `sql/sqlite-server.sql` (the embedded sync server) and
//! `sql/postgres.sql` from the IR.
//!
//! Structure before text: each file is first a list of [`Statement`]s, each with what it
//! creates and its table, and only then laid out as text. The migration planner takes the
//! statements; nothing reads the SQL back. One path for both databases: the IR becomes sea-query
//! statements (`table`), built with `SqliteQueryBuilder` or `PostgresQueryBuilder`; what
//! sea-query cannot say (comments, SQLite's `STRICT`, `COMMENT ON`, triggers, functions, row security) is a
//! macro of a small minijinja template per dialect (`sqlite.jinja`, `postgres.jinja`), kept next
//! to this file, and each file's own template lays the statements out with the comments that
//! explain them. The machinery of sync is the rest: the client's outbox (`client`), the
//! embedded server's counter and tombstones (`server`) and Postgres's (`sync`), with its row
//! security policies (`rls`).

mod client;
mod column;
pub(crate) mod rls;
mod server;
mod statement;
pub(crate) mod sync;
mod table;

/// The tables of the client's machinery that name rows by table and key, and Postgres's
/// tombstones: a rename renames what they hold (`migrate`).
pub(crate) use client::{OUTBOX, QUARANTINE, RESYNC};
pub(crate) use column::{
    DefaultSql, check_expr, check_expr_on, default_sql, ident, literal, live_predicate, sql_type,
};
pub(crate) use statement::{Item, Statement, StatementKind};
pub(crate) use sync::TOMBSTONE;

use minijinja::{Environment, Value, context};
use sea_query::{PostgresQueryBuilder, SchemaBuilder, SqliteQueryBuilder};

use crate::GENERATED_NOTICE;
use crate::ir::{ExtraSql, ExtraTarget, Schema, Table};

use statement::{Group, Statements};
use table::{Cursor, TableSql, table_sql};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// A generated DDL file: its statements in file order, and its text.
#[derive(Debug, Clone)]
pub(crate) struct Ddl {
    pub statements: Vec<Statement>,
    pub text: String,
}

/// The device's SQLite schema: STRICT tables with the canonical affinities, and the client's
/// outbox machinery.
pub fn sqlite(schema: &Schema) -> String {
    sqlite_ddl(schema).text
}

/// The embedded sync server's SQLite schema: the device's tables, with the server's sync
/// machinery instead of the client's.
pub fn sqlite_server(schema: &Schema) -> String {
    let extra = schema.extra_sql(ExtraTarget::SqliteServer);
    build("sqlite.jinja", "sqlite-server.sql", extra, |s| server::layout(schema, s)).text
}

/// The Postgres schema, with `COMMENT ON` for every documented table and column, and the
/// server's sync machinery for every synced table.
pub fn postgres(schema: &Schema) -> String {
    postgres_ddl(schema).text
}

pub(crate) fn sqlite_ddl(schema: &Schema) -> Ddl {
    let extra = schema.extra_sql(ExtraTarget::Sqlite);
    build("sqlite.jinja", "sqlite.sql", extra, |s| {
        let tables: Vec<Group> = schema
            .tables
            .iter()
            .filter(|t| t.targets.sqlite)
            .map(|t| {
                let sql = sqlite_table(schema, t, None);
                Group { comment: t.comment.clone(), statements: table_statements(s, t, &sql) }
            })
            .collect();
        let client = client::machinery(schema, s);
        context! { tables, client, state => client::STATE, outbox => client::OUTBOX }
    })
}

pub(crate) fn postgres_ddl(schema: &Schema) -> Ddl {
    let extra = schema.extra_sql(ExtraTarget::Postgres);
    build("postgres.jinja", "postgres.sql", extra, |s| sync::layout(schema, s))
}

/// A table of the SQLite target, with the server's cursor column when one is given.
fn sqlite_table(schema: &Schema, table: &Table, cursor: Option<Cursor>) -> TableSql {
    table_sql::<SqliteQueryBuilder>(table, Dialect::Sqlite, schema.timestamp_storage, cursor)
}

/// A table of the Postgres target, with the sync machinery's cursor column when one is given.
fn postgres_table(schema: &Schema, table: &Table, cursor: Option<Cursor>) -> TableSql {
    table_sql::<PostgresQueryBuilder>(table, Dialect::Postgres, schema.timestamp_storage, cursor)
}

/// The `CREATE TABLE` of a table (the dialect template's `table` macro) and its indexes.
fn table_statements(s: &mut Statements, table: &Table, sql: &TableSql) -> Vec<String> {
    let name = Some(table.name.as_str());
    let kind = StatementKind::Table(sql.items.clone());
    let mut out = vec![s.call(kind, name, "table", &[Value::from_serialize(sql)])];
    for index in &sql.indexes {
        out.push(s.add(StatementKind::Index(index.name.clone()), name, index.sql.clone()));
    }
    out
}

/// An index built with the dialect's builder, as a statement with its closing semicolon.
fn index_sql<B: SchemaBuilder + Default>(index: &sea_query::IndexCreateStatement) -> String {
    index.to_string(B::default()) + ";"
}

/// Make a file: `layout` records its statements through the macros of the dialect's template
/// `macros` and returns what the file's template `file` lays out; the team's `extra` SQL files
/// come last, each as one statement, after everything generated.
fn build<'e>(
    macros: &str,
    file: &str,
    extra: impl Iterator<Item = &'e ExtraSql>,
    layout: impl FnOnce(&mut Statements) -> Value,
) -> Ddl {
    let env = environment();
    let rendered = env.get_template(macros).and_then(|t| {
        let macros = t.render_captured(())?;
        let mut statements = Statements::new(macros.state());
        let generated = layout(&mut statements);
        let extra: Vec<Group> = extra
            .map(|e| Group {
                comment: Some(format!("extra_sql: {}", e.path)),
                statements: vec![statements.add(
                    StatementKind::Extra(e.path.clone()),
                    None,
                    e.sql.clone(),
                )],
            })
            .collect();
        let context = context! { notice => GENERATED_NOTICE, extra, ..generated };
        let text = env.get_template(file)?.render(context)?;
        Ok(Ddl { statements: statements.list, text })
    });
    rendered.expect("the SQL templates render every schema")
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(true);
    env.add_filter("literal", |s: &str| column::literal(s));
    for (name, source) in [
        ("layout.jinja", include_str!("layout.jinja")),
        ("sqlite.jinja", include_str!("sqlite.jinja")),
        ("postgres.jinja", include_str!("postgres.jinja")),
        ("sqlite.sql", include_str!("sqlite.sql.jinja")),
        ("sqlite-server.sql", include_str!("sqlite-server.sql.jinja")),
        ("postgres.sql", include_str!("postgres.sql.jinja")),
    ] {
        env.add_template(name, source).expect("the SQL templates parse");
    }
    env
}
