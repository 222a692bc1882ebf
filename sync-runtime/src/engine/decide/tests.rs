//! Tests of last write wins: newer, older, equal, ties by device, clock skew, deletes and the
//! bookkeeping columns, as pure decisions over the example schema's `tune` table.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::{Outcome, decide};
use crate::engine::test_schema::example_schema as schema;
use crate::engine::validate::{Change, changes};
use crate::protocol::{PushChange, RejectReason};
use crate::store::Values;

const USER: &str = "8f14e45f-ceea-467f-a8f8-1b3c1d6e6c11";
const TUNE: &str = "8f14e45f-ceea-467f-a8f8-1b3c1d6e6c12";
/// Two devices; `HIGH` sorts after `LOW`.
const LOW: &str = "00000000-0000-4000-8000-00000000000a";
const HIGH: &str = "00000000-0000-4000-8000-00000000000b";

/// `2026-11-24T10:00:00.000Z` plus `seconds`, in wire form.
fn at(seconds: i64) -> String {
    let base: DateTime<Utc> = "2026-11-24T10:00:00Z".parse().unwrap();
    crate::wire::format_timestamp(&(base + Duration::seconds(seconds))).unwrap()
}

/// A far future: no change is too early for it.
fn no_skew_limit() -> DateTime<Utc> {
    "2100-01-01T00:00:00Z".parse().unwrap()
}

fn validated(change: Value) -> Change {
    let parsed: PushChange = serde_json::from_value(change).expect("a well-formed change");
    changes(schema(), USER, vec![parsed]).expect("a valid change").remove(0)
}

fn upsert(title: &str, modified: &str) -> Change {
    validated(json!({ "table": "tune", "op": "upsert",
        "row": { "id": TUNE, "user_id": USER, "title": title, "last_modified_at": modified } }))
}

fn delete(modified: &str) -> Change {
    validated(
        json!({ "table": "tune", "op": "delete", "key": { "id": TUNE }, "modified_at": modified }),
    )
}

/// The server's row as a store returns it: every column.
fn stored(title: &str, modified: &str, version: i64, device: Option<&str>) -> Values {
    let row = json!({ "id": TUNE, "user_id": USER, "genre_id": null, "title": title,
        "type": "reel", "structure": null, "incipit": null, "composed_on": null, "deleted": false,
        "sync_version": version, "device_id": device, "last_modified_at": modified });
    row.as_object().unwrap().clone()
}

/// The row an update writes, or a panic naming what was decided instead.
fn updated(outcome: Outcome) -> Values {
    match outcome {
        Outcome::Update(row) => row,
        other => panic!("expected an update, got {other:?}"),
    }
}

#[test]
fn a_new_row_is_inserted_with_version_1_and_the_writing_device() {
    let Outcome::Insert(row) = decide(&upsert("A", &at(0)), None, LOW, no_skew_limit()) else {
        panic!("an insert");
    };
    assert_eq!(
        Value::from(row),
        json!({ "id": TUNE, "user_id": USER, "title": "A", "last_modified_at": at(0),
            "sync_version": 1, "device_id": LOW })
    );
}

#[test]
fn the_newer_change_wins_and_bumps_the_version() {
    let current = stored("A", &at(0), 7, Some(HIGH));
    let row = updated(decide(&upsert("B", &at(1)), Some(&current), LOW, no_skew_limit()));
    assert_eq!(row["title"], "B");
    assert_eq!(row["last_modified_at"], json!(at(1)));
    assert_eq!(row["sync_version"], 8);
    assert_eq!(row["device_id"], LOW);
    // Columns the change left out keep the server's values.
    assert_eq!(row["type"], "reel");
    assert_eq!(row.len(), current.len());
}

#[test]
fn the_older_change_is_stale() {
    let current = stored("A", &at(10), 3, Some(LOW));
    let outcome = decide(&upsert("B", &at(9)), Some(&current), HIGH, no_skew_limit());
    assert_eq!(outcome, Outcome::Reject(RejectReason::Stale));
}

#[test]
fn an_equal_resend_is_a_no_op() {
    let current = stored("A", &at(0), 4, Some(LOW));
    assert_eq!(decide(&upsert("A", &at(0)), Some(&current), LOW, no_skew_limit()), Outcome::Noop);
    // The same time and device with other values is not a resend: the row already there stays.
    let outcome = decide(&upsert("B", &at(0)), Some(&current), LOW, no_skew_limit());
    assert_eq!(outcome, Outcome::Reject(RejectReason::Stale));
}

#[test]
fn a_resend_compares_reals_by_value() {
    let change = validated(json!({ "table": "practice_record", "op": "upsert", "row": {
        "id": TUNE, "user_id": USER, "tune_id": TUNE, "practiced": at(0), "quality": 4,
        "easiness": 3, "last_modified_at": at(0) } }));
    // A database may hand back a real with no fraction as an integer.
    let current = json!({ "id": TUNE, "user_id": USER, "tune_id": TUNE, "practiced": at(0),
        "quality": 4, "easiness": 3, "interval": 0, "repetitions": 0, "elapsed_ms": null,
        "due": null, "deleted": false, "sync_version": 1, "device_id": LOW,
        "last_modified_at": at(0) });
    let current = current.as_object().unwrap().clone();
    assert_eq!(decide(&change, Some(&current), LOW, no_skew_limit()), Outcome::Noop);
}

#[test]
fn ties_on_time_go_to_the_greater_device_whatever_the_order() {
    let (a, b) = (upsert("from low", &at(5)), upsert("from high", &at(5)));
    // LOW first, then HIGH: HIGH wins.
    let Outcome::Insert(first) = decide(&a, None, LOW, no_skew_limit()) else { panic!() };
    let second = updated(decide(&b, Some(&first), HIGH, no_skew_limit()));
    assert_eq!(second["title"], "from high");
    // HIGH first, then LOW: LOW is stale, and HIGH's row stays.
    let Outcome::Insert(first) = decide(&b, None, HIGH, no_skew_limit()) else { panic!() };
    assert_eq!(
        decide(&a, Some(&first), LOW, no_skew_limit()),
        Outcome::Reject(RejectReason::Stale)
    );
    assert_eq!(first["title"], "from high");
}

#[test]
fn a_row_with_no_device_loses_a_tie() {
    let current = stored("by SQL", &at(0), 1, None);
    let row = updated(decide(&upsert("B", &at(0)), Some(&current), LOW, no_skew_limit()));
    assert_eq!(row["title"], "B");
}

#[test]
fn a_change_beyond_the_allowed_skew_is_refused() {
    let latest = "2026-11-24T10:01:00Z".parse().unwrap();
    let skewed = upsert("future", &at(61));
    assert_eq!(decide(&skewed, None, LOW, latest), Outcome::Reject(RejectReason::ClockSkew));
    let current = stored("A", &at(0), 1, Some(LOW));
    assert_eq!(
        decide(&skewed, Some(&current), LOW, latest),
        Outcome::Reject(RejectReason::ClockSkew)
    );
    assert_eq!(
        decide(&delete(&at(61)), None, LOW, latest),
        Outcome::Reject(RejectReason::ClockSkew)
    );
    // Exactly at the limit is allowed.
    assert!(matches!(decide(&upsert("now", &at(60)), None, LOW, latest), Outcome::Insert(_)));
}

#[test]
fn a_delete_of_a_missing_row_does_nothing() {
    assert_eq!(decide(&delete(&at(0)), None, LOW, no_skew_limit()), Outcome::Noop);
}

#[test]
fn a_newer_delete_soft_deletes_at_its_own_time() {
    let current = stored("A", &at(0), 2, Some(HIGH));
    let row = updated(decide(&delete(&at(3)), Some(&current), LOW, no_skew_limit()));
    assert_eq!(row["deleted"], true);
    assert_eq!(row["last_modified_at"], json!(at(3)));
    assert_eq!(row["title"], "A");
    assert_eq!((row["sync_version"].clone(), row["device_id"].clone()), (json!(3), json!(LOW)));
}

#[test]
fn an_older_delete_loses_to_a_later_edit() {
    let current = stored("edited", &at(10), 2, Some(HIGH));
    let outcome = decide(&delete(&at(9)), Some(&current), LOW, no_skew_limit());
    assert_eq!(outcome, Outcome::Reject(RejectReason::Stale));
}

#[test]
fn a_resent_delete_is_a_no_op() {
    let mut current = stored("A", &at(3), 3, Some(LOW));
    current.insert("deleted".into(), json!(true));
    assert_eq!(decide(&delete(&at(3)), Some(&current), LOW, no_skew_limit()), Outcome::Noop);
}

#[test]
fn the_server_sets_version_and_device_whatever_the_client_sent() {
    let change = validated(json!({ "table": "tune", "op": "upsert", "row": { "id": TUNE,
        "user_id": USER, "title": "A", "last_modified_at": at(1), "sync_version": 100,
        "device_id": "forged" } }));
    let Outcome::Insert(row) = decide(&change, None, LOW, no_skew_limit()) else { panic!() };
    assert_eq!((row["sync_version"].clone(), row["device_id"].clone()), (json!(1), json!(LOW)));
    let current = stored("A", &at(0), 5, Some(HIGH));
    let row = updated(decide(&change, Some(&current), LOW, no_skew_limit()));
    assert_eq!((row["sync_version"].clone(), row["device_id"].clone()), (json!(6), json!(LOW)));
}
