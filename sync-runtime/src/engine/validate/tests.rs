//! Tests of request validation: canonical values per type, and every way a change is refused
//! before the database is touched, over the example schema.

use serde_json::{Value, json};

use super::{Op, canonical, changes};
use crate::engine::test_schema::example_schema as schema;
use crate::engine::{Located, Refusal};
use crate::protocol::{ErrorCode, PushChange};
use crate::schema::{ColumnMeta, LogicalType, PostgresType, Storage};

const USER: &str = "8f14e45f-ceea-467f-a8f8-1b3c1d6e6c11";
const TUNE: &str = "8f14e45f-ceea-467f-a8f8-1b3c1d6e6c12";
const AT: &str = "2026-11-24T10:00:00.000Z";

fn column(table: &str, name: &str) -> &'static ColumnMeta {
    schema().table(table).and_then(|t| t.column(name)).expect("a column of the example")
}

/// The canonical form of `value` in `table.name`, or the refusal's code.
fn canon(table: &str, name: &str, value: Value) -> Result<Value, &'static str> {
    canonical(column(table, name), value).map_err(|p| p.why.code().as_str())
}

fn validate(request: Value) -> Result<Vec<super::Change>, Refusal> {
    let parsed: Vec<PushChange> = serde_json::from_value(request).expect("well-formed changes");
    changes(schema(), USER, parsed)
}

/// Where `refusal` is, which must be a refusal of a change.
fn at(refusal: &Refusal) -> &Located {
    refusal.location().unwrap_or_else(|| panic!("{refusal:?} names no place"))
}

/// The refusal of `request`, which must be refused.
fn refused(request: Value) -> Refusal {
    match validate(request) {
        Ok(changes) => panic!("expected a refusal, got {changes:?}"),
        Err(refusal) => refusal,
    }
}

fn tune(extra: Value) -> Value {
    let mut row =
        json!({ "id": TUNE, "user_id": USER, "title": "The Kesh", "last_modified_at": AT });
    row.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    json!({ "table": "tune", "op": "upsert", "row": row })
}

#[test]
fn uuids_are_lower_case_and_hyphenated() {
    let upper = "8F14E45F-CEEA-467F-A8F8-1B3C1D6E6C11";
    assert_eq!(canon("tune", "id", json!(upper)), Ok(json!(USER)));
    for bad in ["8f14e45fceea467fa8f81b3c1d6e6c11", "{8f14e45f-ceea-467f-a8f8-1b3c1d6e6c11}", "x"] {
        assert_eq!(canon("tune", "id", json!(bad)), Err("invalid_value"), "{bad}");
    }
    assert_eq!(canon("tune", "id", json!(42)), Err("invalid_value"));
}

#[test]
fn timestamps_become_utc_with_milliseconds() {
    let cases = [
        ("2026-11-24T12:00:00.000+02:00", "2026-11-24T10:00:00.000Z"),
        ("2026-11-24T05:30:00.5-04:30", "2026-11-24T10:00:00.500Z"),
        ("2026-11-24T10:00:00Z", "2026-11-24T10:00:00.000Z"),
        ("2026-11-24T10:00:00.123000Z", "2026-11-24T10:00:00.123Z"),
        ("2026-11-24t10:00:00.001z", "2026-11-24T10:00:00.001Z"),
    ];
    for (sent, stored) in cases {
        assert_eq!(canon("tune", "last_modified_at", json!(sent)), Ok(json!(stored)), "{sent}");
    }
    // Sub-millisecond precision is refused, not rounded: two stores must compare equal values.
    for bad in ["2026-11-24T10:00:00.0001Z", "2026-11-24T10:00:00.123456Z", "2026-11-24", "now"] {
        assert_eq!(canon("tune", "last_modified_at", json!(bad)), Err("invalid_value"), "{bad}");
    }
    assert_eq!(
        canon("tune", "last_modified_at", json!(1_764_000_000_000_i64)),
        Err("invalid_value")
    );
}

#[test]
fn integers_fit_32_bits() {
    assert_eq!(canon("repertoire_tune", "position", json!(i32::MAX)), Ok(json!(i32::MAX)));
    assert_eq!(canon("repertoire_tune", "position", json!(i32::MIN)), Ok(json!(i32::MIN)));
    for bad in [json!(2_147_483_648_i64), json!(-2_147_483_649_i64), json!(1.5), json!("1")] {
        assert_eq!(
            canon("repertoire_tune", "position", bad.clone()),
            Err("invalid_value"),
            "{bad}"
        );
    }
}

#[test]
fn bigints_fit_a_javascript_number() {
    let max = (1_i64 << 53) - 1;
    assert_eq!(canon("practice_record", "elapsed_ms", json!(max)), Ok(json!(max)));
    assert_eq!(canon("practice_record", "elapsed_ms", json!(-max)), Ok(json!(-max)));
    for bad in [json!(1_i64 << 53), json!(-(1_i64 << 53)), json!(i64::MAX), json!("12")] {
        assert_eq!(
            canon("practice_record", "elapsed_ms", bad.clone()),
            Err("invalid_value"),
            "{bad}"
        );
    }
}

#[test]
fn reals_booleans_dates_json_and_text() {
    assert_eq!(canon("practice_record", "easiness", json!(2)), Ok(json!(2.0)));
    assert_eq!(canon("practice_record", "easiness", json!(2.5)), Ok(json!(2.5)));
    assert_eq!(canon("practice_record", "easiness", json!("2.5")), Err("invalid_value"));
    assert_eq!(canon("note", "pinned", json!(true)), Ok(json!(true)));
    assert_eq!(canon("note", "pinned", json!(1)), Err("invalid_value"));
    assert_eq!(canon("tune", "composed_on", json!("2026-02-28")), Ok(json!("2026-02-28")));
    for bad in ["2026-02-30", "2026-2-28", "2026-02-28T00:00:00Z", "28/02/2026"] {
        assert_eq!(canon("tune", "composed_on", json!(bad)), Err("invalid_value"), "{bad}");
    }
    let settings = json!({ "theme": "dark", "list": [1, null] });
    assert_eq!(canon("user_profile", "settings", settings.clone()), Ok(settings));
    assert_eq!(canon("tune", "title", json!(5)), Err("invalid_value"));
}

#[test]
fn a_float4_column_holds_numbers_at_float4_precision() {
    let float4 = ColumnMeta {
        name: "easiness",
        ty: LogicalType::Real,
        nullable: true,
        has_default: false,
        values: None,
        storage: Storage { postgres: Some(PostgresType::Real), stored_as: None },
    };
    let canon = |value: Value| canonical(&float4, value).map_err(|p| p.why.code().as_str());
    assert_eq!(canon(json!(0.1)), Ok(json!(0.1)));
    assert_eq!(canon(json!(0.100_000_001_490_116_12)), Ok(json!(0.1)));
    assert_eq!(canon(json!(2)), Ok(json!(2.0)));
    for out in [1e39, -1e39, 1e-50] {
        let problem = canonical(&float4, json!(out)).expect_err("out of a float4's range");
        assert_eq!(problem.why.code().as_str(), "invalid_value");
        assert!(problem.message.contains("out of range for a float4"), "{}", problem.message);
    }
}

#[test]
fn nul_characters_are_refused_in_text_and_json() {
    assert_eq!(canon("tune", "title", json!("a\u{0}b")), Err("invalid_value"));
    for bad in [json!({ "k": "a\u{0}" }), json!({ "a\u{0}": 1 }), json!(["x", ["\u{0}"]])] {
        assert_eq!(canon("user_profile", "settings", bad.clone()), Err("invalid_value"), "{bad}");
    }
}

#[test]
fn year_zero_is_refused_in_times_and_dates() {
    let at = "0000-06-01T00:00:00.000Z";
    assert_eq!(canon("tune", "last_modified_at", json!(at)), Err("invalid_value"));
    assert_eq!(
        canon("tune", "last_modified_at", json!("0001-01-01T00:30:00+01:00")),
        Err("invalid_value")
    );
    assert_eq!(canon("tune", "composed_on", json!("0000-02-29")), Err("invalid_value"));
    assert_eq!(canon("tune", "composed_on", json!("0001-01-01")), Ok(json!("0001-01-01")));
    let delete =
        json!([{ "table": "tune", "op": "delete", "key": { "id": TUNE }, "modified_at": at }]);
    assert_eq!(refused(delete).code(), ErrorCode::InvalidValue);
}

#[test]
fn enum_columns_take_only_their_values() {
    assert_eq!(canon("tune", "type", json!("jig")), Ok(json!("jig")));
    for bad in ["Jig", "march", ""] {
        assert_eq!(canon("tune", "type", json!(bad)), Err("invalid_value"), "{bad}");
    }
}

#[test]
fn null_only_where_the_column_is_nullable() {
    assert_eq!(canon("tune", "title", Value::Null), Err("null_value"));
    assert_eq!(canon("tune", "structure", Value::Null), Ok(Value::Null));
    let refusal = refused(json!([tune(json!({ "title": null }))]));
    assert_eq!(refusal.code().as_str(), "null_value");
    assert_eq!(at(&refusal).table.as_deref(), Some("tune"));
    assert_eq!(at(&refusal).column.as_deref(), Some("title"));
    assert_eq!(at(&refusal).key, Some(json!({ "id": TUNE }).as_object().unwrap().clone()));
}

#[test]
fn a_valid_upsert_is_canonical_and_keeps_only_what_was_sent() {
    let sent = tune(json!({
        "id": TUNE.to_uppercase(),
        "last_modified_at": "2026-11-24T11:00:00.000+01:00",
        "type": "jig",
    }));
    let [change] = validate(json!([sent])).unwrap().try_into().unwrap();
    assert_eq!(change.table.name, "tune");
    assert_eq!(Value::from(change.key.clone()), json!({ "id": TUNE }));
    assert_eq!(change.modified.to_rfc3339(), "2026-11-24T10:00:00+00:00");
    let Op::Upsert(row) = &change.op else { panic!("an upsert") };
    assert_eq!(
        Value::from(row.clone()),
        json!({ "id": TUNE, "user_id": USER, "title": "The Kesh", "last_modified_at": AT, "type": "jig" })
    );
}

#[test]
fn unknown_tables_and_columns_are_named() {
    for table in ["nope", "import_job"] {
        let refusal =
            refused(json!([{ "table": table, "op": "upsert", "row": { "id": 1, "source": "x" } }]));
        assert_eq!(refusal.code().as_str(), "unknown_table");
        assert_eq!(at(&refusal).table.as_deref(), Some(table));
    }
    let refusal = refused(json!([tune(json!({ "colour": "red" }))]));
    assert_eq!(refusal.code().as_str(), "unknown_column");
    assert_eq!(at(&refusal).column.as_deref(), Some("colour"));
    assert!(refusal.to_string().contains("colour"), "{refusal}");
    // A delete's key holds exactly the primary key.
    let refusal = refused(json!([{ "table": "tune", "op": "delete",
        "key": { "id": TUNE, "title": "x" }, "modified_at": AT }]));
    assert_eq!(
        (refusal.code().as_str(), at(&refusal).column.as_deref()),
        ("unknown_column", Some("title"))
    );
}

#[test]
fn missing_keys_and_required_columns_are_refused() {
    let refusal = refused(json!([{ "table": "tune", "op": "upsert",
        "row": { "user_id": USER, "title": "x", "last_modified_at": AT } }]));
    assert_eq!(
        (refusal.code().as_str(), at(&refusal).column.as_deref()),
        ("missing_key", Some("id"))
    );
    let refusal = refused(json!([{ "table": "repertoire_tune", "op": "delete",
        "key": { "repertoire_id": TUNE }, "modified_at": AT }]));
    assert_eq!(
        (refusal.code().as_str(), at(&refusal).column.as_deref()),
        ("missing_key", Some("tune_id"))
    );
    let refusal = refused(json!([{ "table": "tune", "op": "upsert",
        "row": { "id": TUNE, "user_id": USER, "last_modified_at": AT } }]));
    assert_eq!(
        (refusal.code().as_str(), at(&refusal).column.as_deref()),
        ("missing_column", Some("title"))
    );
    // The conflict time is required even though the column has a default.
    let refusal = refused(json!([{ "table": "tune", "op": "upsert",
        "row": { "id": TUNE, "user_id": USER, "title": "x" } }]));
    assert_eq!(
        (refusal.code().as_str(), at(&refusal).column.as_deref()),
        ("missing_column", Some("last_modified_at"))
    );
}

#[test]
fn a_row_changed_twice_in_one_request_is_refused_whatever_the_spelling_of_its_key() {
    let delete = json!({ "table": "tune", "op": "delete", "key": { "id": TUNE.to_uppercase() },
        "modified_at": AT });
    let refusal = refused(json!([tune(json!({})), delete]));
    assert_eq!(refusal.code().as_str(), "duplicate_change");
    assert_eq!(at(&refusal).key, Some(json!({ "id": TUNE }).as_object().unwrap().clone()));
}

#[test]
fn public_tables_are_read_only() {
    let upsert = json!({ "table": "genre", "op": "upsert",
        "row": { "id": "irish", "name": "Irish", "last_modified_at": AT } });
    let delete =
        json!({ "table": "genre", "op": "delete", "key": { "id": "irish" }, "modified_at": AT });
    for change in [upsert, delete] {
        let refusal = refused(json!([change]));
        assert_eq!(refusal.code().as_str(), "forbidden");
        assert_eq!(at(&refusal).table.as_deref(), Some("genre"));
    }
}

#[test]
fn rows_are_written_only_by_their_owner() {
    let other = "00000000-0000-4000-8000-000000000002";
    let refusal = refused(json!([tune(json!({ "user_id": other }))]));
    assert_eq!(
        (refusal.code(), at(&refusal).column.as_deref()),
        (ErrorCode::Forbidden, Some("user_id"))
    );
    // No owner would make the row public, and public rows are read-only.
    for owner in [json!({ "user_id": null }), json!({})] {
        let mut change = tune(json!({}));
        change["row"].as_object_mut().unwrap().remove("user_id");
        change["row"].as_object_mut().unwrap().extend(owner.as_object().unwrap().clone());
        assert_eq!(refused(json!([change])).code(), ErrorCode::Forbidden);
    }
    // An owner in upper case is the same user.
    let change = tune(json!({ "user_id": USER.to_uppercase() }));
    assert!(validate(json!([change])).is_ok());
}

/// `tag` has no deleted column and opts in to hard deletes; a table that does not is refused
/// (`tests/tests/sync_deletes.rs`, on a schema without the opt-in).
#[test]
fn a_table_with_hard_deletes_takes_deletes() {
    let delete =
        json!({ "table": "tag", "op": "delete", "key": { "id": TUNE }, "modified_at": AT });
    assert!(validate(json!([delete])).is_ok());
}

#[test]
fn one_bad_change_refuses_the_whole_request() {
    let good = tune(json!({}));
    let bad = json!({ "table": "note", "op": "upsert", "row": { "id": TUNE, "colour": 1 } });
    assert_eq!(at(&refused(json!([good, bad]))).table.as_deref(), Some("note"));
}
