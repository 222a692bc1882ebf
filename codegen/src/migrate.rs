//! Migrations: the SQL that takes a database made from one version of `schema.toml` to the
//! next, for Postgres and for SQLite (`cargo xtask migrate`).
//!
//! Both scripts are built from the statements the emitters make for each version (the very
//! statements `gen` writes), compared statement by statement, so a new table, an index or a
//! trigger is exactly what a fresh database of the new version has. Postgres changes a table in place with `ALTER TABLE`; SQLite does what its
//! `ALTER TABLE` allows (adding a column at the end) and otherwise rebuilds the table the way its
//! documentation prescribes, with foreign keys off so that no row is cascade-deleted. Each script
//! runs in one transaction: a failure (a NULL left in a column made NOT NULL, a foreign key
//! violated) changes nothing.
//!
//! A table or column renamed with `renamed_from` is renamed in place first (`renames`), and the
//! rest of the plan goes from the old version under the new names (`crate::rename`) to the new
//! one.

mod postgres;
mod renames;
mod sqlite;
#[cfg(test)]
mod tests;

use crate::GENERATED_NOTICE;
use crate::emit::sql::{Statement, StatementKind};
use crate::ir::{Schema, TimestampStorage};

/// The migration from one schema version to the next, one script per database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    pub from: u32,
    pub to: u32,
    pub postgres: String,
    pub sqlite: String,
}

/// Why no migration can be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MigrateError {
    #[error(
        "`[schema] version` is {new} and was {old}: a migration goes to a higher version; bump \
         `[schema] version` in schema.toml"
    )]
    VersionNotBumped { old: u32, new: u32 },
    #[error(
        "`[schema] timestamp_storage` changes from {old} to {new}: every stored timestamp would \
         need converting, which migrations do not do; keep `{old}`"
    )]
    TimestampStorage { old: &'static str, new: &'static str },
    #[error(
        "{} NOT NULL without a default in a table that already exists: the rows already there \
         would have no value; give {} a default (or add {} nullable, fill it, and make it NOT \
         NULL in a later version)",
        list(columns), if columns.len() == 1 { "it" } else { "each" },
        if columns.len() == 1 { "it" } else { "them" }
    )]
    NeedsValue {
        /// `table.column` of each such column.
        columns: Vec<String>,
    },
}

fn list(columns: &[String]) -> String {
    let names: Vec<String> = columns.iter().map(|c| format!("`{c}`")).collect();
    let (what, verb) = if columns.len() == 1 { ("column", "is") } else { ("columns", "are") };
    format!("new {what} {} {verb}", names.join(", "))
}

/// Plan the migration from `old` to `new`. Refuses when the version does not go up, when the
/// timestamp storage changes, and when an existing table gets a NOT NULL column without a
/// default (naming every such column): those need data the schema does not give.
pub fn plan(old: &Schema, new: &Schema) -> Result<Migration, MigrateError> {
    if new.version <= old.version {
        return Err(MigrateError::VersionNotBumped { old: old.version, new: new.version });
    }
    if old.timestamp_storage != new.timestamp_storage {
        return Err(MigrateError::TimestampStorage {
            old: storage(old.timestamp_storage),
            new: storage(new.timestamp_storage),
        });
    }
    // Renamed tables and columns are the old ones under new names, not new ones.
    let renamed = crate::rename::renamed(old, new);
    let mut columns = Vec::new();
    for table in &new.tables {
        let Some(before) = renamed.old.table(&table.name) else { continue };
        for col in &table.columns {
            if before.column(&col.name).is_none() && !col.nullable && col.default.is_none() {
                columns.push(format!("{}.{}", table.name, col.name));
            }
        }
    }
    if !columns.is_empty() {
        return Err(MigrateError::NeedsValue { columns });
    }
    Ok(Migration {
        from: old.version,
        to: new.version,
        postgres: header(old, new) + &postgres::plan(old, &renamed, new),
        sqlite: header(old, new) + &sqlite::plan(old, &renamed, new),
    })
}

fn storage(storage: TimestampStorage) -> &'static str {
    match storage {
        TimestampStorage::Text => "text",
        TimestampStorage::Integer => "integer",
    }
}

fn header(old: &Schema, new: &Schema) -> String {
    format!(
        "-- {GENERATED_NOTICE}\n-- The migration of schema `{}` from version {} to {}, written by \
         `cargo xtask migrate`: apply it once, after every earlier migration.\n",
        new.name, old.version, new.version
    )
}

/// Statements in the order a script runs them.
#[derive(Debug, Default)]
struct Script(Vec<String>);

impl Script {
    fn push(&mut self, sql: impl Into<String>) {
        self.0.push(sql.into());
    }

    fn extend(&mut self, other: Script) {
        self.0.extend(other.0);
    }
}

/// One version's DDL as the emitter made it, looked up by table.
#[derive(Debug, Clone)]
struct Ddl(Vec<Statement>);

impl Ddl {
    /// The `CREATE TABLE` of `table`.
    fn table(&self, table: &str) -> Option<&Statement> {
        self.0.iter().find(|s| is_table(s) && s.table.as_deref() == Some(table))
    }

    /// The indexes, triggers, rows and comments of `table`, in file order.
    fn parts_of<'a>(&'a self, table: &'a str) -> impl Iterator<Item = &'a Statement> + 'a {
        self.0.iter().filter(move |s| !is_table(s) && s.table.as_deref() == Some(table))
    }

    /// The statements of the sync machinery: those of no table (functions) and those of its
    /// own tables, whose names start with `prefix`. The team's `[extra_sql]`, which migrations
    /// do not carry, is not part of it.
    fn machinery(&self, prefix: &str) -> Vec<Statement> {
        self.0
            .iter()
            .filter(|s| !matches!(s.kind, StatementKind::Extra(_)))
            .filter(|s| s.table.as_deref().is_none_or(|t| t.starts_with(prefix)))
            .cloned()
            .collect()
    }
}

fn is_table(statement: &Statement) -> bool {
    matches!(statement.kind, StatementKind::Table(_))
}
