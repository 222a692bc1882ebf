//! Schema metadata built at run time from `schema.toml`, for a server that reads its schema at
//! startup instead of compiling in the generated crate.
//!
//! The result is the very [`SchemaMeta`] the generator writes as `static` data (a test checks
//! that the example schema gives exactly `generated::SCHEMA`), so the engine and the stores cannot
//! tell a loaded schema from a compiled one.

use std::path::{Path, PathBuf};

use codegen::ir;

use super::{ColumnMeta, LogicalType, SchemaMeta, Scope, SyncColumns, TableMeta, Targets};

/// A schema read from a `schema.toml` file: its metadata, and the SQLite DDL generated from the
/// same IR, so the embedded store's tables always match the metadata.
#[derive(Debug, Clone)]
pub struct LoadedSchema {
    pub meta: &'static SchemaMeta,
    pub sqlite_ddl: String,
}

/// Why a schema file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read the schema file {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    /// The file is not a valid schema; `rendered` holds every problem with a source snippet.
    #[error("{} is not a valid schema:\n{rendered}", path.display())]
    Invalid { path: PathBuf, rendered: String },
}

impl LoadedSchema {
    /// Read, validate and convert the schema at `path`.
    pub fn read(path: &Path) -> Result<Self, LoadError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| LoadError::Read { path: path.to_owned(), source })?;
        let name = path
            .file_name()
            .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        let schema = codegen::load(&name, &text)
            .map_err(|e| LoadError::Invalid { path: path.to_owned(), rendered: e.render() })?;
        let sqlite_ddl = codegen::generate(&schema)
            .remove("sql/sqlite.sql")
            .expect("the generator always emits sql/sqlite.sql");
        Ok(LoadedSchema { meta: leak(&schema), sqlite_ddl })
    }
}

/// The metadata of a validated schema, with `'static` lifetimes.
///
/// The engine and the stores take `&'static SchemaMeta`, the type the generator writes as
/// `static` data, so that compiled and loaded schemas are one type without lifetimes or reference
/// counts threaded through every query. A server loads its schema once and keeps it until it
/// exits, so leaking it here costs a few kilobytes once and never grows; call this once per
/// process, not per request.
pub fn leak(schema: &ir::Schema) -> &'static SchemaMeta {
    let tables: Vec<&'static TableMeta> =
        schema.tables.iter().map(|t| &*Box::leak(Box::new(table(t)))).collect();
    Box::leak(Box::new(SchemaMeta {
        name: text(&schema.name),
        version: schema.version,
        min_client_version: schema.min_client_version,
        tables: slice(tables),
    }))
}

fn table(table: &ir::Table) -> TableMeta {
    let sync = &table.sync;
    TableMeta {
        name: text(&table.name),
        columns: slice(table.columns.iter().map(column).collect()),
        primary_key: names(&table.primary_key.columns),
        scope: match &table.scope {
            ir::SyncScope::Owner => Scope::Owner,
            ir::SyncScope::OwnerOrPublic => Scope::OwnerOrPublic,
            ir::SyncScope::Public => Scope::Public,
            ir::SyncScope::Via { column, parent_table } => {
                Scope::Via { column: text(column), parent_table: text(parent_table) }
            }
            ir::SyncScope::None => Scope::None,
        },
        sync: SyncColumns {
            owner: sync.owner.as_deref().map(text),
            modified: sync.modified.as_deref().map(text),
            deleted: sync.deleted.as_deref().map(text),
            version: sync.version.as_deref().map(text),
            device: sync.device.as_deref().map(text),
        },
        targets: Targets { sqlite: table.targets.sqlite, postgres: table.targets.postgres },
    }
}

fn column(column: &ir::Column) -> ColumnMeta {
    ColumnMeta {
        name: text(&column.name),
        ty: logical_type(column.ty),
        nullable: column.nullable,
        has_default: column.default.is_some(),
        values: column.values.as_deref().map(names),
    }
}

fn logical_type(ty: ir::LogicalType) -> LogicalType {
    match ty {
        ir::LogicalType::Text => LogicalType::Text,
        ir::LogicalType::Uuid => LogicalType::Uuid,
        ir::LogicalType::Integer => LogicalType::Integer,
        ir::LogicalType::Bigint => LogicalType::Bigint,
        ir::LogicalType::Real => LogicalType::Real,
        ir::LogicalType::Boolean => LogicalType::Boolean,
        ir::LogicalType::Timestamp => LogicalType::Timestamp,
        ir::LogicalType::Date => LogicalType::Date,
        ir::LogicalType::Json => LogicalType::Json,
    }
}

fn text(s: &str) -> &'static str {
    Box::leak(s.into())
}

fn names(list: &[String]) -> &'static [&'static str] {
    slice(list.iter().map(|s| text(s)).collect())
}

fn slice<T>(items: Vec<T>) -> &'static [T] {
    Box::leak(items.into_boxed_slice())
}
