//! Emitters: each turns the IR into the contents of one or more files. Output is a value before
//! it is a file: [`generate`] fills an ordered map from path to contents.

mod json_schema;
mod markdown;
pub(crate) mod rust;
mod rust_meta;
mod rust_protocol;
mod rust_serde;
pub(crate) mod sql;
pub(crate) mod ts;

pub use rust::{rust_items, sync_row_impl};
pub use rust_protocol::{PROTOCOL_PATH, protocol_file};

use std::collections::BTreeMap;

use crate::ir::Schema;

/// Generated files by path relative to `generated/`, in a stable order.
pub type Files = BTreeMap<String, String>;

/// A device's SQLite migration script, `generated/migrations/<version>_<name>.sqlite.sql`
/// (written by `cargo xtask migrate`), which the generated TypeScript and Rust carry for the
/// clients to run on open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteMigration {
    pub version: u32,
    pub sql: String,
}

/// Every generated file for a schema, without migration scripts (a schema of its own, with no
/// history). Deterministic: the same schema gives the same bytes.
pub fn generate(schema: &Schema) -> Files {
    generate_with(schema, &[])
}

/// Every generated file for a schema whose migration scripts are `migrations` (in any order:
/// the generated lists are sorted by version). Deterministic, as [`generate`].
pub fn generate_with(schema: &Schema, migrations: &[SqliteMigration]) -> Files {
    let mut migrations = migrations.to_vec();
    migrations.sort_by_key(|m| m.version);
    let mut files = Files::new();
    files.insert("schema.schema.json".into(), json_schema::emit());
    files.extend(ts::files(schema, &migrations));
    files.insert("sql/sqlite.sql".into(), sql::sqlite(schema));
    files.insert("sql/sqlite-server.sql".into(), sql::sqlite_server(schema));
    files.insert("sql/postgres.sql".into(), sql::postgres(schema));
    files.extend(rust::files(schema, &migrations));
    files.insert("schema.md".into(), markdown::emit(schema));
    files
}
