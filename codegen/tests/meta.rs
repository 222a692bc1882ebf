//! A schema loaded from `schema.toml` at run time is exactly the metadata the generator compiles
//! into the `generated` crate, so the server can read its schema at startup.

use std::path::Path;

use codegen::meta::{LoadError, LoadedSchema};

fn example_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema.toml")
}

#[test]
fn the_example_schema_loads_as_the_generated_metadata() {
    let loaded = LoadedSchema::read(&example_path()).expect("the example schema is valid");
    assert_eq!(*loaded.meta, generated::SCHEMA);
    // Tables compare by value, field by field, so walk them too: a failure then names the table.
    for (ours, theirs) in loaded.meta.tables.iter().zip(generated::SCHEMA.tables) {
        assert_eq!(ours, theirs, "table {}", theirs.name);
    }
}

#[test]
fn the_sqlite_ddl_is_the_committed_server_one() {
    let loaded = LoadedSchema::read(&example_path()).expect("the example schema is valid");
    let committed = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../generated/sql/sqlite-server.sql"),
    )
    .expect("read generated/sql/sqlite-server.sql");
    assert_eq!(loaded.sqlite_server_ddl.replace("\r\n", "\n"), committed.replace("\r\n", "\n"));
}

#[test]
fn a_missing_or_invalid_file_says_which_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    let error = LoadedSchema::read(&missing).unwrap_err();
    assert!(matches!(error, LoadError::Read { .. }));
    assert!(error.to_string().contains("nope.toml"), "{error}");

    let invalid = dir.path().join("schema.toml");
    std::fs::write(&invalid, "[schema]\nname = \"x\"\nversion = 0\n").unwrap();
    let error = LoadedSchema::read(&invalid).unwrap_err().to_string();
    assert!(error.contains("is not a valid schema"), "{error}");
    assert!(error.contains("schema.toml"), "{error}");
}
