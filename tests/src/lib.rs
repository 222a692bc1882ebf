//! Shared support for the workspace integration tests: the schemas under test, a fresh
//! Postgres database per test, and the wire form of values (docs/types.md) in each store.

pub mod catalog;
pub mod client;
pub mod cluster;
pub mod instances;
pub mod pg;
pub mod proxy;
pub mod server;
pub mod server_process;
pub mod sqlite;
pub mod sync;
pub mod ts_devices;
pub mod wire;

use std::path::{Path, PathBuf};

use codegen::ir::Schema;

/// The workspace root (the parent of this package).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is inside the workspace").into()
}

/// Validate schema text; an invalid schema fails the test with the rendered diagnostics.
pub fn load(name: &str, text: &str) -> Schema {
    codegen::load(name, text).unwrap_or_else(|e| panic!("{name} is invalid:\n{}", e.render()))
}

/// The example application schema, `schema.toml` at the workspace root.
pub fn example_schema() -> Schema {
    let path = workspace_root().join("schema.toml");
    load("schema.toml", &std::fs::read_to_string(&path).expect("read schema.toml"))
}

/// Every schema whose DDL is checked against real databases: the example and each
/// `codegen/tests/data/<case>/schema.toml`, by a readable name.
pub fn schemas_under_test() -> Vec<(String, Schema)> {
    let mut out = vec![("schema.toml".to_owned(), example_schema())];
    let data = workspace_root().join("codegen/tests/data");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&data)
        .map(|dir| dir.filter_map(|e| Some(e.ok()?.path().join("schema.toml"))).collect())
        .unwrap_or_default();
    cases.retain(|p| p.is_file());
    cases.sort();
    for path in cases {
        let name =
            path.strip_prefix(workspace_root()).expect("below the root").display().to_string();
        let text = std::fs::read_to_string(&path).expect("read a test schema");
        let schema = codegen::load_in(&name, &text, path.parent().expect("in a folder"));
        out.push((name.clone(), schema.unwrap_or_else(|e| panic!("{name}:\n{}", e.render()))));
    }
    out
}

/// The generated `(sqlite.sql, postgres.sql)` of a schema.
pub fn ddl(schema: &Schema) -> (String, String) {
    let mut files = codegen::generate(schema);
    let mut take = |path: &str| files.remove(path).unwrap_or_else(|| panic!("{path} is generated"));
    (take("sql/sqlite.sql"), take("sql/postgres.sql"))
}
