//! Unit tests of the shared row serde, on a hand-written row that uses it as the generated
//! rows do: the wire form, missing, unknown and duplicate members, and the sequence form.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;

use super::*;
use crate::schema::{Constraints, Deletes, Scope, Storage, SyncColumns, Targets};

const fn column(name: &'static str, ty: LogicalType, nullable: bool) -> ColumnMeta {
    ColumnMeta {
        name,
        ty,
        nullable,
        has_default: false,
        values: None,
        storage: Storage { postgres: None, stored_as: None },
    }
}

static TABLE: TableMeta = TableMeta {
    name: "item",
    columns: &[
        column("id", LogicalType::Uuid, false),
        ColumnMeta { values: Some(&["a", "b"]), ..column("kind", LogicalType::Text, false) },
        column("note", LogicalType::Text, true),
        column("big", LogicalType::Bigint, true),
        column("at", LogicalType::Timestamp, false),
    ],
    primary_key: &["id"],
    scope: Scope::None,
    sync: SyncColumns { owner: None, modified: None, deleted: None, version: None, device: None },
    targets: Targets { sqlite: true, postgres: true },
    constraints: Constraints {
        primary_key: "item_pkey",
        unique: &[],
        foreign_keys: &[],
        checks: &[],
        indexes: &[],
    },
    deletes: Deletes::Never,
};

const KINDS: [&str; 2] = ["a", "b"];

#[derive(Debug, PartialEq)]
struct Item {
    id: uuid::Uuid,
    kind: usize,
    note: Option<String>,
    big: Option<i64>,
    at: DateTime<Utc>,
}

impl Serialize for Item {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize(
            serializer,
            &TABLE,
            &[
                Field::Uuid(Some(&self.id)),
                Field::Variant(Some(KINDS[self.kind])),
                Field::Text(self.note.as_ref()),
                Field::Bigint(self.big.as_ref()),
                Field::Timestamp(Some(&self.at)),
            ],
        )
    }
}

impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut row = deserialize(deserializer, &TABLE)?;
        Ok(Item {
            id: row.uuid(0)?,
            kind: row.variant(1)?,
            note: row.text_opt(2)?,
            big: row.bigint_opt(3)?,
            at: row.timestamp(4)?,
        })
    }
}

fn item() -> Item {
    Item {
        id: uuid::Uuid::nil(),
        kind: 1,
        note: None,
        big: Some(7),
        at: Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap(),
    }
}

fn wire() -> serde_json::Value {
    json!({
        "id": "00000000-0000-0000-0000-000000000000",
        "kind": "b",
        "note": null,
        "big": 7,
        "at": "2026-11-24T10:00:00.000Z",
    })
}

fn refused(value: serde_json::Value) -> String {
    serde_json::from_value::<Item>(value).expect_err("refused").to_string()
}

#[test]
fn a_row_round_trips_its_wire_form_in_column_order() {
    let text = serde_json::to_string(&item()).unwrap();
    assert_eq!(text, wire().to_string());
    assert_eq!(serde_json::from_str::<Item>(&text).unwrap(), item());
}

#[test]
fn nullable_members_may_be_left_out_and_unknown_ones_are_ignored() {
    let mut value = wire();
    let object = value.as_object_mut().unwrap();
    object.remove("note");
    object.remove("big");
    object.insert("extra".into(), json!({ "any": [1, 2] }));
    let read: Item = serde_json::from_value(value).unwrap();
    assert_eq!(read, Item { big: None, ..item() });
}

#[test]
fn missing_duplicate_and_bad_members_are_refused_as_serde_words_them() {
    let mut missing = wire();
    missing.as_object_mut().unwrap().remove("at");
    assert!(refused(missing).contains("missing field `at`"));
    let duplicate = r#"{"id":"00000000-0000-0000-0000-000000000000","id":"00000000-0000-0000-0000-000000000000"}"#;
    let error = serde_json::from_str::<Item>(duplicate).expect_err("refused").to_string();
    assert!(error.contains("duplicate field `id`"), "{error}");
    let mut kind = wire();
    kind["kind"] = json!("c");
    assert!(refused(kind).contains("unknown variant `c`, expected `a` or `b`"));
    let mut null = wire();
    null["at"] = json!(null);
    let error = refused(null);
    assert!(error.contains("invalid type: null, expected a string"), "{error}");
    let mut big = wire();
    big["big"] = json!(1_i64 << 60);
    assert!(refused(big).contains("is beyond"));
}

#[test]
fn a_sequence_in_column_order_reads_too() {
    let sequence =
        json!(["00000000-0000-0000-0000-000000000000", "b", null, 7, "2026-11-24T10:00:00.000Z"]);
    assert_eq!(serde_json::from_value::<Item>(sequence).unwrap(), item());
    let short = json!(["00000000-0000-0000-0000-000000000000"]);
    assert!(refused(short).contains("invalid length 1"));
}

#[test]
fn an_unsendable_value_fails_serializing() {
    let error = serde_json::to_string(&Item { big: Some(i64::MAX), ..item() }).unwrap_err();
    assert!(error.to_string().contains("is beyond"), "{error}");
}
