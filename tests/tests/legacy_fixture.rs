//! A legacy production Postgres schema (hand-written SQL with legacy names, timestamps without
//! time zone, float4, 0/1 integer flags, JSON in text, DESC and partial indexes, a column named
//! `type`) and its schema.toml twin: applied side by side, the two catalogs are identical.
//!
//! The generated side also has the sync machinery, which the hand-written schema never had; the
//! catalog snapshot leaves it out (its names start with `_sync`, which no user name can), and
//! the test checks that it is there, so that leaving it out hides nothing else.

use integration_tests::pg::TestDb;
use integration_tests::{catalog, ddl, load, workspace_root};

#[test]
fn generated_postgres_ddl_equals_the_hand_written_legacy_schema() {
    let dir = workspace_root().join("tests/fixtures/legacy");
    let legacy_sql = std::fs::read_to_string(dir.join("legacy.sql")).unwrap();
    let schema_text = std::fs::read_to_string(dir.join("schema.toml")).unwrap();
    let schema = load("tests/fixtures/legacy/schema.toml", &schema_text);
    let (_, generated_sql) = ddl(&schema);

    let mut legacy = TestDb::new();
    legacy.batch_execute(&legacy_sql).expect("legacy.sql applies");
    let mut generated = TestDb::new();
    generated.batch_execute(&generated_sql).expect("the generated DDL applies");

    let expected = catalog::snapshot(&mut legacy);
    let actual = catalog::snapshot(&mut generated);
    assert!(expected.len() > 150, "the fixture is substantial: {} catalog lines", expected.len());
    let diff = similar::TextDiff::from_lines(&expected.join("\n"), &actual.join("\n"))
        .unified_diff()
        .header("legacy.sql", "generated from schema.toml")
        .to_string();
    assert!(expected == actual, "the catalogs differ:\n{diff}");

    assert_eq!(catalog::sync_machinery(&mut legacy), Vec::<String>::new());
    let machinery = catalog::sync_machinery(&mut generated);
    for table in schema.tables.iter().filter(|t| t.targets.postgres) {
        let stamped = machinery.iter().any(|line| {
            line.starts_with("trigger CREATE TRIGGER _sync_stamp")
                && line.contains(&format!(" ON public.{} ", table.name))
        });
        assert_eq!(
            stamped,
            table.is_synced(),
            "{}: stamping trigger in {machinery:#?}",
            table.name
        );
    }
}

#[test]
fn the_snapshot_sees_a_difference() {
    // Guard against a snapshot that cannot fail: one changed default must show.
    let dir = workspace_root().join("tests/fixtures/legacy");
    let legacy_sql = std::fs::read_to_string(dir.join("legacy.sql")).unwrap();
    let mut a = TestDb::new();
    a.batch_execute(&legacy_sql).unwrap();
    let before = catalog::snapshot(&mut a);
    a.batch_execute("ALTER TABLE note ALTER COLUMN display_order SET DEFAULT 1").unwrap();
    let after = catalog::snapshot(&mut a);
    let changed: Vec<&String> = after.iter().filter(|l| !before.contains(l)).collect();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert!(changed[0].contains("display_order integer NOT NULL DEFAULT 1"), "{changed:?}");
}
