//! A legacy production Postgres schema (hand-written SQL with legacy names, timestamps without
//! time zone, float4, 0/1 integer flags, JSON in text, DESC and partial indexes, a column named
//! `type`) and its schema.toml twin: applied side by side, the two catalogs are identical.
//!
//! The generated side also has the sync machinery, which the hand-written schema never had; the
//! catalog snapshot leaves it out (its names start with `_sync`, which no user name can), and
//! the test checks that it is there, so that leaving it out hides nothing else.
//!
//! A sync server over the fixture schema, on each store, carries its legacy storage both ways:
//! what one device pushes, it and another device pull back unchanged, and a resend is a no-op.

use integration_tests::pg::TestDb;
use integration_tests::server::Served;
use integration_tests::sync::TestStore;
use integration_tests::{catalog, ddl, load, workspace_root};
use serde_json::{Value, json};

integration_tests::for_each_store!(legacy_storage_round_trips_through_the_endpoint);

fn fixture_schema() -> codegen::ir::Schema {
    let path = workspace_root().join("tests/fixtures/legacy/schema.toml");
    let text = std::fs::read_to_string(path).unwrap();
    load("tests/fixtures/legacy/schema.toml", &text)
}

#[test]
fn generated_postgres_ddl_equals_the_hand_written_legacy_schema() {
    let dir = workspace_root().join("tests/fixtures/legacy");
    let legacy_sql = std::fs::read_to_string(dir.join("legacy.sql")).unwrap();
    let schema = fixture_schema();
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

const USER: &str = "5b0e1d8e-2f4a-4c1b-9d3e-7a6b5c4d3e2f";
const DEVICE_A: &str = "00000000-0000-4000-8000-0000000000a1";
const DEVICE_B: &str = "00000000-0000-4000-8000-0000000000b2";
const TUNE: &str = "11111111-1111-4111-8111-111111111111";
const PLAYLIST: &str = "22222222-2222-4222-8222-222222222222";

/// Rows of every table with a storage override, in the order their foreign keys need: 0/1
/// flags, float4s, JSON in text (a string, an array, a number, an object, null) and timestamps
/// without a time zone.
fn legacy_rows() -> Vec<Value> {
    let at = "2026-11-24T10:00:00.000Z";
    let id = |n: u32| format!("{n:08x}-0000-4000-8000-000000000000");
    let note = |n: u32, public: bool, favorite: Value, metadata: Value| {
        json!({ "table": "note", "op": "upsert", "row": {
            "id": id(n), "user_ref": USER, "tune_ref": TUNE, "note_text": "lift the B part",
            "public": public, "favorite": favorite, "display_order": n, "metadata": metadata,
            "created_date": "2001-02-03T04:05:06.789Z", "deleted": false, "last_modified_at": at,
        } })
    };
    vec![
        json!({ "table": "user_profile", "op": "upsert", "row": {
            "id": USER, "name": "Ann", "email": "ann@example.com", "sr_alg_type": "FSRS",
            "acceptable_delinquency_window": 7, "deleted": false, "last_modified_at": at,
        } }),
        json!({ "table": "tune", "op": "upsert", "row": {
            "id": TUNE, "title": "The Kesh", "type": "jig", "private_for": USER,
            "deleted": false, "last_modified_at": at,
        } }),
        json!({ "table": "playlist", "op": "upsert", "row": {
            "playlist_id": PLAYLIST, "user_ref": USER, "instrument_ref": "fiddle",
            "deleted": false, "last_modified_at": at,
        } }),
        json!({ "table": "practice_record", "op": "upsert", "row": {
            "id": id(1), "playlist_ref": PLAYLIST, "tune_ref": TUNE,
            "practiced": "2026-11-20T09:30:00.123Z", "quality": 4, "easiness": 0.1,
            "difficulty": 2.5, "stability": 1.1, "review_date": "0001-01-01T00:00:00.000Z",
            "goal": "fluency", "deleted": false, "last_modified_at": at,
        } }),
        note(1, true, json!(false), json!("a string")),
        note(2, false, Value::Null, json!([1, "two", null])),
        note(3, true, json!(true), json!(42.5)),
        note(4, false, json!(false), json!({ "k": { "nested": true } })),
        note(5, false, json!(true), Value::Null),
        json!({ "table": "reference", "op": "upsert", "row": {
            "id": id(6), "url": "https://example.com/kesh", "ref_type": "audio",
            "tune_ref": TUNE, "user_ref": USER, "public": true, "favorite": Value::Null,
            "deleted": false, "last_modified_at": at,
        } }),
        json!({ "table": "tab_group_main_state", "op": "upsert", "row": {
            "id": id(7), "user_id": USER, "which_tab": "catalog",
            "practice_show_submitted": true, "deleted": false, "last_modified_at": at,
        } }),
    ]
}

/// The `(table, primary key)` of a pushed or pulled row.
fn place(table: &Value, row: &Value) -> String {
    let key = if table == "playlist" { "playlist_id" } else { "id" };
    format!("{table} {}", row[key])
}

fn legacy_storage_round_trips_through_the_endpoint<S: TestStore>() {
    let served = Served::start_with::<S>(fixture_schema(), Default::default());
    let changes = legacy_rows();
    served.push_as(USER, DEVICE_A, changes.clone());
    let mut cursor = Value::Null;
    for device in [DEVICE_A, DEVICE_B] {
        let (pulled, next) = served.pull_as(USER, device, Value::Null);
        let pulled: std::collections::HashMap<String, &Value> =
            pulled.iter().map(|c| (place(&c["table"], &c["row"]), &c["row"])).collect();
        for change in &changes {
            let place = place(&change["table"], &change["row"]);
            let row = pulled.get(&place).unwrap_or_else(|| panic!("{device}: {place} is pulled"));
            for (column, value) in change["row"].as_object().expect("a row") {
                assert_eq!(&row[column], value, "{device}: {place}, column {column}: {row}");
            }
            assert_eq!(row["sync_version"], 1, "{device}: {place}");
            assert_eq!(row["device_id"], DEVICE_A, "{device}: {place}");
        }
        if device == DEVICE_A {
            cursor = next;
        }
    }
    let before = served.snapshot();
    served.push_as(USER, DEVICE_A, changes);
    served.assert_unchanged(&before, "an equal resend of the legacy rows");
    assert_eq!(served.pull_as(USER, DEVICE_A, cursor).0, Vec::<Value>::new(), "nothing new");
    served.stop();
}
