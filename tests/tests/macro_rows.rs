//! The proc-macros in use: types from `include_schema!` and a hand-written
//! `#[derive(SyncRow)]` struct handled by the same generic code through the runtime's row trait,
//! with the same metadata as the committed `generated` crate and the same wire JSON.

use chrono::{DateTime, NaiveDate, Utc};
use codegen_macros::SyncRow;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sync_meta::schema::{SyncRow, TableMeta};
use uuid::Uuid;

mod tunes {
    codegen_macros::include_schema!("../schema.toml");
}

/// A hand-written row of `tune`: renamed fields, the generated enum, and the wire helpers the
/// generated struct uses for dates and timestamps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SyncRow)]
#[sync(table = "tune", schema = "../schema.toml")]
struct PracticeTune {
    id: Uuid,
    #[serde(rename = "user_id")]
    owner: Option<Uuid>,
    genre_id: Option<String>,
    title: String,
    #[serde(rename = "type")]
    kind: tunes::tune::Type,
    structure: Option<String>,
    incipit: Option<String>,
    #[serde(with = "sync_meta::wire::date_opt", default)]
    composed_on: Option<NaiveDate>,
    deleted: bool,
    sync_version: i32,
    device_id: Option<String>,
    #[serde(with = "sync_meta::wire::timestamp")]
    last_modified_at: DateTime<Utc>,
}

/// What the runtime does with any row type: it knows the table only through `T::TABLE`.
fn table_of<T: SyncRow>() -> &'static TableMeta {
    T::TABLE
}

/// Deserializes and serializes back, requiring the very same JSON.
fn round_trip<T: SyncRow + std::fmt::Debug>(wire: &Value) -> T {
    let row: T = serde_json::from_value(wire.clone())
        .unwrap_or_else(|e| panic!("`{}` does not deserialize: {e}", T::TABLE.name));
    assert_eq!(&serde_json::to_value(&row).unwrap(), wire, "`{}` round trip", T::TABLE.name);
    row
}

fn sample() -> Value {
    json!({
        "id": "0b7e9c1d-2f3a-4b5c-8d6e-7f8091a2b3c4",
        "user_id": "6f1c2a4e-8b3d-4e5f-9a0b-1c2d3e4f5a6b",
        "genre_id": "irish",
        "title": "The Silver Spear",
        "type": "reel",
        "structure": "AABB",
        "incipit": null,
        "composed_on": "1999-12-31",
        "deleted": false,
        "sync_version": 2,
        "device_id": "device-1",
        "last_modified_at": "2026-11-24T10:00:00.123Z",
    })
}

#[test]
fn derived_included_and_generated_rows_share_one_table_meta() {
    assert_eq!(table_of::<PracticeTune>(), table_of::<tunes::Tune>());
    assert_eq!(table_of::<PracticeTune>(), table_of::<generated::Tune>());
    assert_eq!(tunes::SCHEMA, generated::SCHEMA);
    assert_eq!(tunes::SCHEMA.table("tune"), Some(table_of::<PracticeTune>()));
}

#[test]
fn derived_and_included_rows_have_the_same_wire_json() {
    let wire = sample();
    let mine: PracticeTune = round_trip(&wire);
    let included: tunes::Tune = round_trip(&wire);
    assert_eq!(mine.kind, tunes::tune::Type::Reel);
    assert_eq!(included.r#type, mine.kind);
    assert_eq!(mine.composed_on, NaiveDate::from_ymd_opt(1999, 12, 31));
    assert_eq!(serde_json::to_value(&mine).unwrap(), serde_json::to_value(&included).unwrap());

    let mut public = wire;
    public["user_id"] = Value::Null;
    public["composed_on"] = Value::Null;
    let mine: PracticeTune = round_trip(&public);
    assert_eq!((mine.owner, mine.composed_on), (None, None));
}
