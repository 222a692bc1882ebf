//! The generated Rust rows: exact wire JSON both ways, metadata that matches `schema.toml`, and
//! clear serde errors for values the wire format refuses.

use std::collections::BTreeSet;
use std::path::Path;

use codegen::ir::{self, SyncScope};
use generated::{
    ImportJob, Note, PracticeRecord, Reference, Repertoire, RepertoireTune, SCHEMA, Tag, Tune,
    UserProfile, tune,
};
use serde_json::{Value, json};
use sync_meta::schema::{Scope, SyncRow};

const USER: &str = "6f1c2a4e-8b3d-4e5f-9a0b-1c2d3e4f5a6b";
const TUNE: &str = "0b7e9c1d-2f3a-4b5c-8d6e-7f8091a2b3c4";
const REPERTOIRE: &str = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d";

/// Deserializes `wire` as a `T`, serializes it back, and requires the very same JSON; also
/// requires `wire` to name exactly the table's columns, so each sample covers every field.
/// Returns the table's name.
fn round_trip<T: SyncRow>(wire: Value) -> &'static str {
    let table = T::TABLE;
    let keys: Vec<&str> =
        wire.as_object().expect("a row is an object").keys().map(|k| k.as_str()).collect();
    let columns: Vec<&str> = table.columns.iter().map(|c| c.name).collect();
    assert_eq!(keys, columns, "the sample of `{}` lists its columns in order", table.name);
    let row: T = serde_json::from_value(wire.clone())
        .unwrap_or_else(|e| panic!("`{}` sample does not deserialize: {e}", table.name));
    assert_eq!(serde_json::to_value(&row).unwrap(), wire, "`{}` round trip", table.name);
    table.name
}

/// Round-trips one sample of every row type; returns the names of the tables covered.
fn round_trip_every_sample() -> Vec<&'static str> {
    let synced = |mut row: Value| {
        let fields = row.as_object_mut().unwrap();
        fields.insert("deleted".into(), json!(false));
        fields.insert("sync_version".into(), json!(1));
        fields.insert("device_id".into(), json!("device-1"));
        fields.insert("last_modified_at".into(), json!("2026-11-24T10:00:00.000Z"));
        row
    };
    vec![
        round_trip::<UserProfile>(synced(json!({
            "id": USER, "display_name": "Ann", "email": null, "avatar_url": null,
            "settings": { "theme": "dark", "metronome": [60, 120] },
        }))),
        round_trip::<generated::Genre>(json!({
            "id": "irish", "name": "Irish", "region": null, "description": null,
            "last_modified_at": "1970-01-01T00:00:00.000Z",
        })),
        round_trip::<Tune>(synced(json!({
            "id": TUNE, "user_id": null, "genre_id": "irish", "title": "The Silver Spear",
            "type": "reel", "structure": "AABB", "incipit": null, "composed_on": "1999-12-31",
        }))),
        round_trip::<Repertoire>(synced(json!({
            "id": REPERTOIRE, "user_id": USER, "name": "Session", "instrument": null,
            "is_default": true,
        }))),
        round_trip::<RepertoireTune>(synced(json!({
            "repertoire_id": REPERTOIRE, "tune_id": TUNE, "position": -3, "goal": "fluency",
        }))),
        round_trip::<PracticeRecord>(synced(json!({
            "id": TUNE, "user_id": USER, "tune_id": TUNE,
            "practiced": "2026-11-24T09:59:59.999Z", "quality": 5, "easiness": 2.5,
            "interval": 1, "repetitions": 0, "elapsed_ms": 9_007_199_254_740_991_i64,
            "due": "2026-11-25T00:00:00.001Z",
        }))),
        round_trip::<Note>(synced(json!({
            "id": TUNE, "user_id": USER, "tune_id": TUNE, "body": "Lift on the B part \u{1F3BB}",
            "pinned": false,
        }))),
        round_trip::<Reference>(synced(json!({
            "id": TUNE, "user_id": USER, "tune_id": TUNE, "url": "https://example.com/a",
            "type": "sheet", "title": null, "metadata": null,
        }))),
        round_trip::<Tag>(json!({
            "id": TUNE, "user_id": USER, "tune_id": TUNE, "label": "favourite",
            "sync_version": 7, "device_id": null,
            "last_modified_at": "2026-11-24T10:00:00.000Z",
        })),
        round_trip::<ImportJob>(json!({
            "id": -9_007_199_254_740_991_i64, "source": "thesession.org",
            "started_at": "2026-11-24T10:00:00.000Z", "finished_on": null,
            "rows_imported": 0, "ok": null, "report": [1, "two", null],
        })),
    ]
}

#[test]
fn every_row_type_round_trips_its_exact_wire_json() {
    let tested: BTreeSet<&str> = round_trip_every_sample().into_iter().collect();
    let all: BTreeSet<&str> = SCHEMA.tables.iter().map(|t| t.name).collect();
    assert_eq!(tested, all, "every table of SCHEMA has a round-trip sample");
}

#[test]
fn rows_are_typed_and_normalised_to_the_canonical_wire_form() {
    let row: Tune = serde_json::from_value(json!({
        "id": TUNE.to_uppercase(), "user_id": null, "genre_id": null, "title": "Out on the Ocean",
        "type": "jig", "structure": null, "incipit": null, "composed_on": null,
        "deleted": false, "sync_version": 1, "device_id": null,
        "last_modified_at": "2026-11-24T11:00:00.5+01:00",
    }))
    .unwrap();
    assert_eq!(row.r#type, tune::Type::Jig);
    assert_eq!(row.r#type.as_str(), "jig");
    let wire = serde_json::to_value(&row).unwrap();
    assert_eq!(wire["id"], TUNE, "uuids go out lower-case");
    assert_eq!(wire["last_modified_at"], "2026-11-24T10:00:00.500Z", "UTC, three digits, Z");
    assert_eq!(tune::TABLE, "tune");
    assert_eq!(tune::TYPE, "type");
}

#[test]
fn nullable_helper_fields_may_be_left_out() {
    let row: PracticeRecord = serde_json::from_value(json!({
        "id": TUNE, "user_id": USER, "tune_id": TUNE, "practiced": "2026-11-24T10:00:00.000Z",
        "quality": 3, "easiness": 2.5, "interval": 0, "repetitions": 0,
        "deleted": false, "sync_version": 1, "device_id": null,
        "last_modified_at": "2026-11-24T10:00:00.000Z",
    }))
    .unwrap();
    assert_eq!((row.elapsed_ms, row.due), (None, None));
}

/// A wire row with every field of `tune` and `practice_record`: serde ignores the other table's
/// fields, so one valid base serves both.
fn valid_wire() -> Value {
    json!({
        "id": TUNE, "user_id": USER, "tune_id": TUNE, "practiced": "2026-11-24T10:00:00.000Z",
        "quality": 3, "easiness": 2.5, "interval": 0, "repetitions": 0, "elapsed_ms": null,
        "due": null, "genre_id": null, "title": "t", "type": "reel", "structure": null,
        "incipit": null, "composed_on": null, "deleted": false, "sync_version": 1,
        "device_id": null, "last_modified_at": "2026-11-24T10:00:00.000Z",
    })
}

/// The serde error for `valid_wire()` with `field` replaced by `value`, read as a `T`.
fn refused<T: SyncRow>(field: &str, value: Value) -> String {
    let mut wire = valid_wire();
    serde_json::from_value::<T>(wire.clone()).expect("the base row is valid");
    wire[field] = value;
    serde_json::from_value::<T>(wire).map(|_| ()).expect_err("the value is refused").to_string()
}

#[test]
fn bad_wire_values_are_rejected_with_clear_errors() {
    let sub_ms = refused::<PracticeRecord>("practiced", json!("2026-11-24T10:00:00.0001Z"));
    assert!(sub_ms.contains("sub-millisecond precision"), "{sub_ms}");

    let unsafe_big = refused::<PracticeRecord>("elapsed_ms", json!(9_007_199_254_740_992_i64));
    assert!(unsafe_big.contains("bigint 9007199254740992 is beyond"), "{unsafe_big}");

    let unknown = refused::<Tune>("type", json!("march"));
    assert!(unknown.contains("unknown variant `march`, expected one of `reel`"), "{unknown}");

    let not_a_date = refused::<Tune>("composed_on", json!("31/12/1999"));
    assert!(not_a_date.contains("`31/12/1999` is not a date"), "{not_a_date}");

    let missing = refused::<Tune>("title", json!(null));
    assert!(missing.contains("invalid type: null, expected a string"), "{missing}");
}

#[test]
fn unsafe_bigints_cannot_be_sent() {
    let mut row: PracticeRecord = serde_json::from_value(valid_wire()).unwrap();
    row.elapsed_ms = Some(i64::MAX);
    let error = serde_json::to_value(&row).expect_err("not sendable").to_string();
    assert!(error.contains("bigint 9223372036854775807 is beyond"), "{error}");
}

#[test]
fn metadata_matches_schema_toml() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let schema = codegen::load("schema.toml", &text).expect("the workspace schema is valid");
    assert_eq!((SCHEMA.name, SCHEMA.version), (schema.name.as_str(), schema.version));
    let names = |tables: Vec<&str>| tables.join(", ");
    assert_eq!(
        names(SCHEMA.tables.iter().map(|t| t.name).collect()),
        names(schema.tables.iter().map(|t| t.name.as_str()).collect()),
        "the same tables in the same (dependency) order"
    );
    for table in &schema.tables {
        let meta = SCHEMA.table(&table.name).unwrap();
        let what = &table.name;
        assert_eq!(meta.primary_key, table.primary_key.columns, "{what} key");
        assert_eq!(scope_text(meta.scope), expected_scope_text(table), "{what} scope");
        let sync = [
            meta.sync.owner,
            meta.sync.modified,
            meta.sync.deleted,
            meta.sync.version,
            meta.sync.device,
        ];
        let expected = [
            &table.sync.owner,
            &table.sync.modified,
            &table.sync.deleted,
            &table.sync.version,
            &table.sync.device,
        ]
        .map(|c| c.as_deref());
        assert_eq!(sync, expected, "{what} sync columns");
        assert_eq!(
            (meta.targets.sqlite, meta.targets.postgres),
            (table.targets.sqlite, table.targets.postgres),
            "{what} targets"
        );
        assert_eq!(meta.columns.len(), table.columns.len(), "{what} columns");
        for (meta_col, col) in meta.columns.iter().zip(&table.columns) {
            let what = format!("{what}.{}", col.name);
            assert_eq!(meta_col.name, col.name, "{what}");
            assert_eq!(meta_col.ty.as_str(), col.ty.as_str(), "{what} type");
            assert_eq!(meta_col.nullable, col.nullable, "{what} nullable");
            assert_eq!(meta_col.has_default, col.default.is_some(), "{what} default");
            assert_eq!(
                meta_col.values.map(<[&str]>::to_vec),
                col.values.as_ref().map(|v| v.iter().map(String::as_str).collect()),
                "{what} values"
            );
        }
    }
}

/// A scope as text, `via:<column>` naming the parent table too, so that the generated
/// `&'static str` metadata and the IR's owned strings compare directly.
fn scope_text(scope: Scope) -> String {
    match scope {
        Scope::Owner => "owner".into(),
        Scope::OwnerOrPublic => "owner_or_public".into(),
        Scope::Public => "public".into(),
        Scope::Via { column, parent_table } => format!("via:{column} -> {parent_table}"),
        Scope::None => "none".into(),
    }
}

fn expected_scope_text(table: &ir::Table) -> String {
    match &table.scope {
        SyncScope::Via { column, parent_table } => {
            let fk = table.foreign_keys.iter().find(|fk| fk.columns == [column.clone()]).unwrap();
            assert_eq!(&fk.ref_table, parent_table, "the IR's via parent is the FK's table");
            format!("via:{column} -> {}", fk.ref_table)
        }
        other => other.as_toml(),
    }
}
