//! The one translation of a validated schema into the metadata the runtime reads
//! ([`sync_meta::schema`]): the Rust emitter prints what it returns as `static` data, and a
//! server that reads `schema.toml` at startup uses it as is, so a compiled and a loaded schema
//! cannot differ.

use std::path::{Path, PathBuf};

use sync_meta::schema::{
    CheckMeta, ColumnMeta, Constraints, ForeignKeyMeta, KeyMeta, SchemaMeta, Scope, SyncColumns,
    TableMeta, Targets,
};

use crate::ir;

/// A schema read from a `schema.toml` file at run time (by `sync-server`): its metadata, and the
/// embedded store's SQLite DDL (`sqlite-server.sql`: the tables with the server's sync
/// machinery) generated from the same IR, so the store's tables always match the metadata.
#[derive(Debug, Clone)]
pub struct LoadedSchema {
    pub meta: &'static SchemaMeta,
    pub sqlite_server_ddl: String,
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
    /// Read, validate and translate the schema at `path`.
    pub fn read(path: &Path) -> Result<Self, LoadError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| LoadError::Read { path: path.to_owned(), source })?;
        let name = path
            .file_name()
            .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        let dir = path.parent().unwrap_or(Path::new(""));
        let schema = crate::load_in(&name, &text, dir)
            .map_err(|e| LoadError::Invalid { path: path.to_owned(), rendered: e.render() })?;
        let sqlite_server_ddl = crate::emit::sql::sqlite_server(&schema);
        Ok(LoadedSchema { meta: schema_meta(&schema), sqlite_server_ddl })
    }
}

/// The metadata of a validated schema, with `'static` lifetimes.
///
/// The engine and the stores take `&'static SchemaMeta`, the type the generator writes as
/// `static` data, so that compiled and loaded schemas are one type without lifetimes or reference
/// counts threaded through every query. A server loads its schema once and keeps it until it
/// exits, and the generator prints it once per run, so leaking it here costs a few kilobytes once
/// and never grows; call this once per process or generated file, not per request.
pub fn schema_meta(schema: &ir::Schema) -> &'static SchemaMeta {
    let tables: Vec<&'static TableMeta> =
        schema.tables.iter().map(|t| &*Box::leak(Box::new(table_meta(t)))).collect();
    Box::leak(Box::new(SchemaMeta {
        name: text(&schema.name),
        version: schema.version,
        min_client_version: schema.min_client_version,
        timestamp_storage: schema.timestamp_storage,
        tables: slice(tables),
    }))
}

/// The metadata of one table; its strings are leaked like [`schema_meta`]'s.
pub fn table_meta(table: &ir::Table) -> TableMeta {
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
        constraints: constraints(table),
        deletes: table.deletes,
    }
}

fn constraints(table: &ir::Table) -> Constraints {
    let key = |name: &str, columns: Vec<&'static str>| KeyMeta {
        name: text(name),
        columns: slice(columns),
    };
    let index_key = |i: &ir::Index| key(&i.name, i.columns.iter().map(|c| text(&c.name)).collect());
    let unique = table
        .uniques
        .iter()
        .map(|u| key(&u.name, u.columns.iter().map(|c| text(c)).collect()))
        .chain(table.indexes.iter().filter(|i| i.unique).map(index_key));
    let column_checks = table
        .columns
        .iter()
        .filter(|c| c.has_check())
        .map(|c| CheckMeta { name: text(&c.check_name), column: Some(text(&c.name)) });
    let table_checks = table.checks.iter().map(|c| CheckMeta { name: text(&c.name), column: None });
    Constraints {
        primary_key: text(&table.primary_key.name),
        unique: slice(unique.collect()),
        foreign_keys: slice(
            table
                .foreign_keys
                .iter()
                .map(|fk| ForeignKeyMeta {
                    name: text(&fk.name),
                    columns: names(&fk.columns),
                    ref_table: text(&fk.ref_table),
                    ref_columns: names(&fk.ref_columns),
                })
                .collect(),
        ),
        checks: slice(column_checks.chain(table_checks).collect()),
        indexes: slice(table.indexes.iter().filter(|i| !i.unique).map(index_key).collect()),
    }
}

fn column(column: &ir::Column) -> ColumnMeta {
    ColumnMeta {
        name: text(&column.name),
        ty: column.ty,
        nullable: column.nullable,
        has_default: column.default.is_some(),
        values: column.values.as_deref().map(names),
        storage: column.storage,
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
