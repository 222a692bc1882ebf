//! Emitters: each turns the IR into the contents of one or more files. Output is a value before
//! it is a file: [`generate`] fills an ordered map from path to contents.

mod json_schema;
mod markdown;
pub(crate) mod rust;
mod rust_meta;
mod rust_protocol;
pub(crate) mod sql;
pub(crate) mod ts;

pub use rust::{rust_tokens, sync_row_impl};
pub use rust_protocol::{PROTOCOL_PATH, protocol_file};

use std::collections::BTreeMap;

use crate::ir::Schema;

/// Generated files by path relative to `generated/`, in a stable order.
pub type Files = BTreeMap<String, String>;

/// Every generated file for a schema. Deterministic: the same schema gives the same bytes.
pub fn generate(schema: &Schema) -> Files {
    let mut files = Files::new();
    files.insert("schema.schema.json".into(), json_schema::emit());
    files.extend(ts::files(schema));
    files.insert("sql/sqlite.sql".into(), sql::sqlite(schema));
    files.insert("sql/sqlite-server.sql".into(), sql::sqlite_server(schema));
    files.insert("sql/postgres.sql".into(), sql::postgres(schema));
    files.extend(rust::files(schema));
    files.insert("schema.md".into(), markdown::emit(schema));
    files
}
