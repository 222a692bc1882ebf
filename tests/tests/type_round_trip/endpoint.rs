//! The values of every column of the round-trip schema, storage overrides included, pushed
//! through a real sync server on each store and pulled back by the pushing device and by another
//! one, unchanged; an equal resend is a no-op. A float4 holds what it is sent at its precision
//! and refuses what it cannot hold, naming the column; legacy values written by SQL (0/1
//! booleans, float4s, text that is not JSON in a JSON column) are served as docs/types.md says.

use integration_tests::server::{Answer, Served};
use integration_tests::sync::{Database, TestStore};
use reqwest::StatusCode;
use serde_json::{Map, Value, json};

use super::{sample_columns, schema, synced_schema, values};

integration_tests::for_each_store!(
    every_storage_override_round_trips_through_the_endpoint,
    a_float4_holds_what_it_is_sent_at_its_precision,
    a_float4_refuses_what_it_cannot_hold_naming_the_column,
    legacy_values_written_by_sql_are_served_and_resent_as_no_ops,
);

const USER: &str = "7d3f6f52-54a4-4c4f-9a0e-1c3f2b7f3a10";
const DEVICE_A: &str = "00000000-0000-4000-8000-00000000000a";
const DEVICE_B: &str = "00000000-0000-4000-8000-00000000000b";
const AT: &str = "2026-11-24T10:00:00.000Z";

/// A server over a fresh store of kind `S` holding [`synced_schema`] with SQLite timestamps
/// stored as `storage`.
fn serve<S: TestStore>(storage: &str) -> Served {
    Served::start_with::<S>(synced_schema(storage), Default::default())
}

/// `POST /api/sync` as [`USER`] from `device` at `cursor`, pushing `changes`.
fn sync(served: &Served, device: &str, cursor: &Value, changes: Vec<Value>) -> Answer {
    served.sync_as(USER, device, cursor, changes)
}

/// Push `changes` from `device`: accepted, and none rejected.
fn push(served: &Served, device: &str, changes: Vec<Value>) {
    served.push_as(USER, device, changes);
}

/// Every row `device` pulls after `cursor`, by id, and the cursor to pull from next.
fn pull(served: &Served, device: &str, cursor: Value) -> (Map<String, Value>, Value) {
    let (changes, cursor) = served.pull_as(USER, device, cursor);
    let rows = changes
        .into_iter()
        .map(|change| {
            let row = change["row"].clone();
            assert!(row.is_object(), "a row: {change}");
            (row["id"].to_string(), row)
        })
        .collect();
    (rows, cursor)
}

/// An upsert of row `id` of `sample` with every value column null but those of `values`.
fn upsert(id: i64, values: &[(&str, Value)]) -> Value {
    let mut row: Map<String, Value> =
        sample_columns(&schema("text")).map(|c| (c.name.clone(), Value::Null)).collect();
    row.extend(values.iter().map(|(name, value)| ((*name).to_owned(), value.clone())));
    row.extend([("id".into(), json!(id)), ("owner".into(), json!(USER))]);
    row.insert("modified_at".into(), json!(AT));
    json!({ "table": "sample", "op": "upsert", "row": row })
}

/// The row `change` upserts, as a pull serves it after `device` wrote it.
fn served_row(change: &Value, device: &str) -> Value {
    let mut row = change["row"].clone();
    row["version"] = json!(1);
    row["device"] = json!(device);
    row
}

/// The values a float4 column carries unchanged: each the shortest decimal of a float4 (the
/// largest, the smallest normal and the smallest subnormal among them).
fn float4_values() -> Vec<Value> {
    let list = json!([0.0, 1.5, -2.25, 0.1, 0.3, 16_777_216.0, 3.402_823_5e38, 1.175_494_4e-38]);
    let mut list = list.as_array().expect("a list").clone();
    list.extend([json!(1e-45), Value::Null]);
    list
}

fn every_storage_override_round_trips_through_the_endpoint<S: TestStore>() {
    for storage in ["text", "integer"] {
        let served = serve::<S>(storage);
        let mut changes = Vec::new();
        for column in sample_columns(&schema(storage)) {
            let list = match column.name.as_str() {
                // The endpoint serves a float4 as its shortest decimal (see the tests below).
                "a_float4" => float4_values(),
                _ => values(column),
            };
            for value in list {
                let id = changes.len() as i64 + 1;
                changes.push(upsert(id, &[(column.name.as_str(), value)]));
            }
        }
        let expected: Map<String, Value> =
            changes.iter().map(|c| (c["row"]["id"].to_string(), served_row(c, DEVICE_A))).collect();
        push(&served, DEVICE_A, changes.clone());

        let (pulled, cursor) = pull(&served, DEVICE_A, Value::Null);
        assert_rows(&pulled, &expected, &format!("{storage}: the pushing device"));
        let (pulled, _) = pull(&served, DEVICE_B, Value::Null);
        assert_rows(&pulled, &expected, &format!("{storage}: another device"));

        // The same changes again from the same device (a lost acknowledgement): no-ops, so
        // nothing is written, no version moves and the device has nothing new to pull.
        let before = served.snapshot();
        push(&served, DEVICE_A, changes);
        served.assert_unchanged(&before, &format!("{storage}: an equal resend"));
        assert_eq!(pull(&served, DEVICE_A, cursor).0, Map::new(), "{storage}: after the resend");
        served.stop();
    }
}

/// Fail with every row of `pulled` that differs from `expected`.
fn assert_rows(pulled: &Map<String, Value>, expected: &Map<String, Value>, who: &str) {
    let differences: Vec<String> = expected
        .iter()
        .filter(|(id, row)| pulled.get(*id) != Some(row))
        .map(|(id, row)| format!("row {id}: pushed {row}\n        pulled {:?}", pulled.get(id)))
        .collect();
    let report = differences.join("\n");
    assert!(differences.is_empty(), "{who}: {} rows differ:\n{report}", differences.len());
    assert_eq!(pulled.len(), expected.len(), "{who}: the number of rows");
}

fn a_float4_holds_what_it_is_sent_at_its_precision<S: TestStore>() {
    let served = serve::<S>("text");
    // Numbers with more digits than a float4 holds, and what they are rounded to.
    let cases = [
        (f64::from(0.1f32), 0.1),
        (0.100_000_000_1, 0.1),
        (1.0 / 3.0, 0.333_333_34),
        (16_777_217.0, 16_777_216.0),
        (1.2e-45, 1e-45),
        (3.402_823_56e38, 3.402_823_5e38),
    ];
    let changes: Vec<Value> =
        (1..).zip(cases).map(|(id, (sent, _))| upsert(id, &[("a_float4", json!(sent))])).collect();
    push(&served, DEVICE_A, changes.clone());
    for device in [DEVICE_A, DEVICE_B] {
        let (pulled, _) = pull(&served, device, Value::Null);
        for (id, (sent, held)) in (1..).zip(cases) {
            let row = &pulled[&json!(id).to_string()];
            assert_eq!(row["a_float4"], json!(held), "{device}: {sent} is held as {held}");
        }
    }
    // Sent again as they were, or as they are served: no-ops.
    let before = served.snapshot();
    push(&served, DEVICE_A, changes);
    let served_values: Vec<Value> =
        (1..).zip(cases).map(|(id, (_, held))| upsert(id, &[("a_float4", json!(held))])).collect();
    push(&served, DEVICE_A, served_values);
    served.assert_unchanged(&before, "float4 resends");
    served.stop();
}

fn a_float4_refuses_what_it_cannot_hold_naming_the_column<S: TestStore>() {
    let served = serve::<S>("text");
    push(&served, DEVICE_A, vec![upsert(1, &[("a_float4", json!(0.5))])]);
    let before = served.snapshot();
    for (id, value) in (2..).zip([1e39, -1e39, f64::MAX, 1e-50, -1e-46, f64::MIN_POSITIVE]) {
        let change = upsert(id, &[("a_float4", json!(value))]);
        let answer = sync(&served, DEVICE_A, &Value::Null, vec![change]);
        let error = &answer.body["error"];
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{value:e}: {}", answer.body);
        assert_eq!(error["code"], "invalid_value", "{value:e}: {}", answer.body);
        assert_eq!(error["table"], "sample", "{value:e}: {}", answer.body);
        assert_eq!(error["key"], json!({ "id": id }), "{value:e}: {}", answer.body);
        assert_eq!(error["column"], "a_float4", "{value:e}: {}", answer.body);
        let message = error["message"].as_str().unwrap_or_default();
        for words in ["`a_float4`", "out of range for a float4"] {
            assert!(message.contains(words), "{value:e}: {message}");
        }
    }
    served.assert_unchanged(&before, "refused float4s");
    served.stop();
}

/// Legacy rows an old application wrote by SQL, each with the values the endpoint serves.
const LEGACY: [(&str, &str, &str); 5] = [
    ("1", "'not json {'", r#""not json {""#),
    ("0", "''", r#""""#),
    ("1", r#"'"quoted"'"#, r#""quoted""#),
    ("0", r#"'{ "a" : [1, 2] }'"#, r#"{"a":[1,2]}"#),
    ("1", "'1e400'", r#""1e400""#),
];

fn legacy_values_written_by_sql_are_served_and_resent_as_no_ops<S: TestStore>() {
    let served = serve::<S>("text");
    let rows: Vec<Value> = (1..=LEGACY.len() as i64).map(|id| upsert(id, &[])).collect();
    push(&served, DEVICE_A, rows);
    let (_, cursor) = pull(&served, DEVICE_A, Value::Null);
    // The embedded store's JSON CHECK would refuse the text that is not JSON, which a database
    // that predates the schema may still hold.
    let unchecked = match served.database() {
        Database::Postgres(_) => "",
        Database::Sqlite { .. } => "PRAGMA ignore_check_constraints = ON; ",
    };
    for (id, (flag, text, _)) in (1..).zip(LEGACY) {
        served.database().execute(&format!(
            "{unchecked}UPDATE sample SET an_int_boolean = {flag}, a_float4 = 0.1, \
             a_text_json = {text} WHERE id = {id}"
        ));
    }
    let (pulled, cursor) = pull(&served, DEVICE_A, cursor);
    let (others, _) = pull(&served, DEVICE_B, Value::Null);
    let mut resend = Vec::new();
    for (id, (flag, text, wire)) in (1..).zip(LEGACY) {
        let row = &pulled[&json!(id).to_string()];
        assert_eq!(others[&json!(id).to_string()], *row, "both devices get row {id}");
        let wire: Value = serde_json::from_str(wire).expect("JSON");
        assert_eq!(row["a_text_json"], wire, "{text} is served as {wire}");
        assert_eq!(row["an_int_boolean"], json!(flag == "1"), "{flag} is a boolean");
        assert_eq!(row["a_float4"], json!(0.1), "a float4 0.1 written by SQL");
        resend.push(json!({ "table": "sample", "op": "upsert", "row": row }));
    }
    // The rows sent back as they came: no-ops, so the legacy text stays as it was.
    push(&served, DEVICE_A, resend);
    assert_eq!(pull(&served, DEVICE_A, cursor.clone()).0, Map::new(), "the resend wrote nothing");
    assert_eq!(stored_text(served.database(), 1), "not json {");

    // A newer write of the served value stores it as JSON text from then on.
    let mut row = pulled[&json!(1).to_string()].clone();
    row["modified_at"] = json!("2026-11-24T10:00:01.000Z");
    push(&served, DEVICE_A, vec![json!({ "table": "sample", "op": "upsert", "row": row })]);
    assert_eq!(stored_text(served.database(), 1), r#""not json {""#);
    let (pulled, _) = pull(&served, DEVICE_B, Value::Null);
    assert_eq!(pulled[&json!(1).to_string()]["a_text_json"], "not json {");
    served.stop();
}

/// The text `a_text_json` of row `id` holds, as SQL reads it.
fn stored_text(db: &Database, id: i32) -> String {
    let sql = "SELECT a_text_json FROM sample WHERE id = ";
    match db {
        Database::Postgres(_) => {
            db.postgres().query_one(&format!("{sql}$1"), &[&id]).unwrap().get(0)
        }
        Database::Sqlite { path, .. } => rusqlite::Connection::open(path)
            .unwrap()
            .query_row(&format!("{sql}?1"), [id], |row| row.get(0))
            .unwrap(),
    }
}
