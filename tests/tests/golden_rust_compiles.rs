//! The Rust output of every golden schema under `codegen/tests/data/` compiles and serves the
//! runtime: each case is expanded here with `include_schema!` (the same tokens `cargo xtask gen`
//! writes), so a case whose generated Rust does not compile fails the build of this test.

use sync_meta::schema::SchemaMeta;

mod all_types {
    codegen_macros::include_schema!("../codegen/tests/data/all_types/schema.toml");
}
mod composite_keys {
    codegen_macros::include_schema!("../codegen/tests/data/composite_keys/schema.toml");
}
mod keyword_names {
    codegen_macros::include_schema!("../codegen/tests/data/keyword_names/schema.toml");
}
mod legacy_storage {
    codegen_macros::include_schema!("../codegen/tests/data/legacy_storage/schema.toml");
}
mod minimal {
    codegen_macros::include_schema!("../codegen/tests/data/minimal/schema.toml");
}
mod legacy_fixture {
    codegen_macros::include_schema!("fixtures/legacy/schema.toml");
}

#[test]
fn every_golden_case_is_compiled_here() {
    let cases: Vec<(&str, &SchemaMeta)> = vec![
        ("all_types", &all_types::SCHEMA),
        ("composite_keys", &composite_keys::SCHEMA),
        ("keyword_names", &keyword_names::SCHEMA),
        ("legacy_storage", &legacy_storage::SCHEMA),
        ("minimal", &minimal::SCHEMA),
    ];
    let data = integration_tests::workspace_root().join("codegen/tests/data");
    let mut on_disk: Vec<String> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("schema.toml").is_file())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let listed: Vec<&str> = cases.iter().map(|(name, _)| *name).collect();
    assert_eq!(on_disk, listed, "add the new golden case to this file");
    let fixture = integration_tests::workspace_root().join("tests/fixtures/legacy/schema.toml");
    let paths = cases.iter().map(|(name, meta)| (data.join(name).join("schema.toml"), *meta));
    for (path, meta) in paths.chain([(fixture, &legacy_fixture::SCHEMA)]) {
        let text = std::fs::read_to_string(&path).unwrap();
        let schema = codegen::load_in("schema.toml", &text, path.parent().unwrap())
            .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.render()));
        let names: Vec<&str> = meta.tables.iter().map(|t| t.name).collect();
        let expected: Vec<&str> = schema.tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, expected, "{}", path.display());
    }
}
