//! The malformed requests of `sync_refusals_input`, each with what its refusal must say: bodies
//! of the wrong shape, requests refused as a whole, and changes that do not fit the schema.

use integration_tests::server::request;
use integration_tests::sync::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The limits of the server under test: small, so that going over them is cheap.
pub const MAX_CHANGES: usize = 100;
pub const MAX_BODY_BYTES: usize = 64 * 1024;

// Rows of the user under test that exist before the cases run: a tune, a repertoire and a tag.
const TUNE: u32 = 1;
const REPERTOIRE: u32 = 2;
const TAG: u32 = 3;
/// The valid change of every case: a new tune, which a request applied halfway would leave.
const NEW_TUNE: u32 = 100;

/// One malformed request and what its refusal must say.
pub struct Case {
    pub name: &'static str,
    pub body: String,
    pub status: StatusCode,
    pub code: &'static str,
    pub table: Option<&'static str>,
    pub key: Option<Value>,
    pub column: Option<&'static str>,
    /// Words the message must contain, besides the column's name.
    pub says: Vec<String>,
}

impl Case {
    /// A request with this body text, refused with 400 `code`.
    fn raw(name: &'static str, body: impl Into<String>, code: &'static str) -> Case {
        Case {
            name,
            body: body.into(),
            status: StatusCode::BAD_REQUEST,
            code,
            table: None,
            key: None,
            column: None,
            says: Vec::new(),
        }
    }

    /// A request (as JSON), refused with 400 `code`.
    fn request(name: &'static str, request: Value, code: &'static str) -> Case {
        Case::raw(name, request.to_string(), code)
    }

    /// A request pushing the valid change, then `bad`, refused with 400 `code`.
    fn push(name: &'static str, bad: Value, code: &'static str) -> Case {
        Case::request(name, request(None, json!([valid(), bad])), code)
    }

    fn status(mut self, status: StatusCode) -> Case {
        self.status = status;
        self
    }

    /// The table, key and column the error must name.
    fn at(mut self, table: &'static str, key: Option<Value>, column: Option<&'static str>) -> Case {
        (self.table, self.key, self.column) = (Some(table), key, column);
        self
    }

    fn says(mut self, words: impl Into<String>) -> Case {
        self.says.push(words.into());
        self
    }
}

pub fn me() -> String {
    user(1)
}

/// A valid change: a new tune of the user's.
fn valid() -> Value {
    tune(&id(NEW_TUNE), &me(), "Written only if valid", &at(50))
}

/// A valid request of the example schema pushing `changes`, with fields set (or removed, with
/// `null`) by `fields`.
fn request_with(changes: Value, fields: Value) -> Value {
    let mut request = request(None, changes);
    for (name, value) in fields.as_object().expect("an object of fields") {
        let object = request.as_object_mut().expect("a request is an object");
        match value {
            Value::Null => object.remove(name),
            value => object.insert(name.clone(), value.clone()),
        };
    }
    request
}

/// `change` (an upsert) with the columns of `set` set and those of `remove` removed.
fn edit(mut change: Value, set: Value, remove: &[&str]) -> Value {
    let row = change["row"].as_object_mut().expect("an upsert has a row");
    for column in remove {
        row.remove(*column);
    }
    row.extend(set.as_object().expect("an object of columns").clone());
    change
}

fn key(n: u32) -> Option<Value> {
    Some(json!({ "id": id(n) }))
}

fn practice(n: u32) -> Value {
    upsert(
        "practice_record",
        json!({ "id": id(n), "user_id": me(), "tune_id": id(TUNE), "practiced": at(0),
                "quality": 4, "last_modified_at": at(0) }),
    )
}

/// Every case, in the order they are sent.
pub fn all() -> Vec<Case> {
    shape_cases().into_iter().chain(request_cases()).chain(change_cases()).collect()
}

/// The user's rows that exist before the cases run: those the cases refer to.
pub fn seed() -> Value {
    let me = me();
    json!([
        profile(&me, &at(0)),
        tune(&id(TUNE), &me, "The Silver Spear", &at(0)),
        repertoire(&id(REPERTOIRE), &me, "Session", &at(0)),
        tag(&id(TAG), &me, &id(TUNE), "fast", &at(0)),
    ])
}

/// The valid change alone, and the row it writes.
pub fn valid_alone() -> (Value, Value) {
    (request(None, json!([valid()])), json!({ "id": id(NEW_TUNE) }))
}

/// Malformed bodies and requests of the wrong shape, which the HTTP layer refuses.
fn shape_cases() -> Vec<Case> {
    let valid_request = request(None, json!([valid()]));
    let with_change = |change: Value| request(None, json!([valid(), change]));
    vec![
        Case::raw("truncated JSON", r#"{"schema_version": 3,"#, "invalid_json").says("EOF"),
        Case::raw("not JSON", "not json", "invalid_json").says("line 1 column 2"),
        Case::raw("an empty body", "", "invalid_json").says("EOF"),
        Case::raw("trailing characters", format!("{valid_request} x"), "invalid_json")
            .says("trailing characters"),
        Case::raw("an array instead of a request", "[]", "invalid_request")
            .says("expected struct SyncRequest"),
        Case::request(
            "no client_id",
            request_with(json!([valid()]), json!({ "client_id": null })),
            "invalid_request",
        )
        .says("missing field `client_id`"),
        Case::request(
            "a client_id that is not a UUID",
            request_with(json!([valid()]), json!({ "client_id": "laptop" })),
            "invalid_request",
        )
        .says("client_id"),
        Case::request(
            "schema_version as text",
            request_with(json!([valid()]), json!({ "schema_version": "three" })),
            "invalid_request",
        )
        .says("schema_version"),
        Case::request(
            "changes that are not a list",
            request_with(json!([]), json!({ "changes": valid() })),
            "invalid_request",
        )
        .says("changes"),
        Case::request(
            "an unknown op",
            with_change(json!({ "table": "tune", "op": "merge", "row": { "id": id(TUNE) } })),
            "invalid_request",
        )
        .says("changes[1]")
        .says("unknown variant `merge`"),
        Case::request(
            "a change without op",
            with_change(json!({ "table": "tune", "row": { "id": id(TUNE) } })),
            "invalid_request",
        )
        .says("changes[1]"),
        Case::request(
            "a pulled deletion pushed back (`deleted: true`, no op)",
            with_change(json!({ "table": "tune", "key": { "id": id(TUNE) }, "deleted": true })),
            "invalid_request",
        )
        .says("changes[1]"),
        Case::request(
            "a row that is not an object",
            with_change(json!({ "table": "tune", "op": "upsert", "row": [id(TUNE)] })),
            "invalid_request",
        )
        .says("changes[1]"),
        Case::request(
            "a delete without modified_at",
            with_change(json!({ "table": "tune", "op": "delete", "key": { "id": id(TUNE) } })),
            "invalid_request",
        )
        .says("modified_at"),
        Case::request(
            "a delete at a time that is not a timestamp",
            with_change(delete("tune", json!({ "id": id(TUNE) }), "yesterday")),
            "invalid_request",
        )
        .says("changes[1]"),
    ]
}

/// Requests the engine refuses as a whole: version, limits, paging.
fn request_cases() -> Vec<Case> {
    let many: Vec<Value> = (0..=MAX_CHANGES as u32)
        .map(|n| tune(&id(1000 + n), &me(), "One too many", &at(50)))
        .collect();
    let big = note(&id(200), &me(), &id(TUNE), &"x".repeat(MAX_BODY_BYTES), &at(50));
    vec![
        Case::request(
            "a schema version older than the server still syncs",
            request_with(json!([valid()]), json!({ "schema_version": 2 })),
            "upgrade_required",
        )
        .status(StatusCode::UPGRADE_REQUIRED)
        .says("version 2"),
        Case::request(
            "a schema version newer than the server's",
            request_with(json!([valid()]), json!({ "schema_version": 4 })),
            "unsupported_schema_version",
        )
        .status(StatusCode::CONFLICT)
        .says("version 4"),
        Case::request("too many changes", request(None, json!(many)), "too_many_changes")
            .status(StatusCode::PAYLOAD_TOO_LARGE)
            .says("101 changes")
            .says("the limit is 100"),
        Case::request("an oversized body", request(None, json!([valid(), big])), "body_too_large")
            .status(StatusCode::PAYLOAD_TOO_LARGE)
            .says(MAX_BODY_BYTES.to_string()),
        Case::request(
            "page_size 0",
            request_with(json!([valid()]), json!({ "page_size": 0 })),
            "invalid_page_size",
        )
        .says("page_size"),
        Case::request(
            "a negative page_size",
            request_with(json!([valid()]), json!({ "page_size": -5 })),
            "invalid_page_size",
        )
        .says("page_size"),
        Case::request(
            "a cursor the server never gave",
            request_with(json!([valid()]), json!({ "cursor": "not-a-cursor" })),
            "bad_cursor",
        )
        .says("cursor"),
    ]
}

/// Changes that do not fit the schema, which the engine refuses naming table, key and column.
fn change_cases() -> Vec<Case> {
    let tune_of = |n: u32| tune(&id(n), &me(), "A reel", &at(50));
    let note_on = |tune: &str| note(&id(300), &me(), tune, "On a tune", &at(50));
    vec![
        Case::push("an unknown table", upsert("tunes", json!({ "id": id(TUNE) })), "unknown_table")
            .at("tunes", None, None)
            .says("`tunes`"),
        Case::push(
            "a table that is not synced",
            upsert("import_job", json!({ "id": 1, "source": "x" })),
            "unknown_table",
        )
        .at("import_job", None, None),
        Case::push(
            "a write to the public table genre",
            upsert("genre", json!({ "id": "irish", "name": "Irish", "last_modified_at": at(50) })),
            "forbidden",
        )
        .status(StatusCode::FORBIDDEN)
        .at("genre", None, None)
        .says("public"),
        Case::push(
            "an unknown column",
            edit(tune_of(4), json!({ "colour": "red" }), &[]),
            "unknown_column",
        )
        .at("tune", key(4), Some("colour")),
        Case::push(
            "text given a number",
            edit(tune_of(4), json!({ "title": 42 }), &[]),
            "invalid_value",
        )
        .at("tune", key(4), Some("title"))
        .says("a string"),
        Case::push(
            "NULL in NOT NULL",
            edit(tune_of(4), json!({ "title": null }), &[]),
            "null_value",
        )
        .at("tune", key(4), Some("title"))
        .says("null"),
        Case::push(
            "a missing required column",
            edit(note_on(&id(TUNE)), json!({}), &["body"]),
            "missing_column",
        )
        .at("note", key(300), Some("body"))
        .says("required"),
        Case::push(
            "a missing conflict time",
            edit(tune_of(4), json!({}), &["last_modified_at"]),
            "missing_column",
        )
        .at("tune", key(4), Some("last_modified_at")),
        Case::push("a missing key column", edit(tune_of(4), json!({}), &["id"]), "missing_key").at(
            "tune",
            None,
            Some("id"),
        ),
        Case::push(
            "a missing column of a composite key",
            edit(repertoire_tune(&id(REPERTOIRE), &id(TUNE), &at(50)), json!({}), &["tune_id"]),
            "missing_key",
        )
        .at("repertoire_tune", None, Some("tune_id")),
        Case::push(
            "a bad uuid in the key",
            edit(tune_of(4), json!({ "id": "4" }), &[]),
            "invalid_value",
        )
        .at("tune", None, Some("id"))
        .says("not a UUID"),
        Case::push("a bad uuid in a reference", note_on("tune-1"), "invalid_value")
            .at("note", key(300), Some("tune_id"))
            .says("not a UUID"),
        Case::push(
            "a bad uuid for the owner",
            edit(tune_of(4), json!({ "user_id": "me" }), &[]),
            "invalid_value",
        )
        .at("tune", key(4), Some("user_id")),
        Case::push(
            "a timestamp that is not one",
            edit(tune_of(4), json!({ "last_modified_at": "yesterday" }), &[]),
            "invalid_value",
        )
        .at("tune", key(4), Some("last_modified_at")),
        Case::push(
            "a sub-millisecond timestamp",
            edit(tune_of(4), json!({ "last_modified_at": "2025-06-01T00:00:00.0001Z" }), &[]),
            "invalid_value",
        )
        .at("tune", key(4), Some("last_modified_at"))
        .says("millisecond"),
        Case::push(
            "a timestamp without a time zone",
            edit(practice(5), json!({ "practiced": "2025-06-01T10:00:00" }), &[]),
            "invalid_value",
        )
        .at("practice_record", key(5), Some("practiced")),
        Case::push(
            "a date that does not exist",
            edit(tune_of(4), json!({ "composed_on": "2025-02-30" }), &[]),
            "invalid_value",
        )
        .at("tune", key(4), Some("composed_on")),
        Case::push(
            "an integer beyond 32 bits",
            edit(practice(5), json!({ "interval": 2_147_483_648_i64 }), &[]),
            "invalid_value",
        )
        .at("practice_record", key(5), Some("interval"))
        .says("32-bit"),
        Case::push(
            "a fraction for an integer",
            edit(practice(5), json!({ "repetitions": 1.5 }), &[]),
            "invalid_value",
        )
        .at("practice_record", key(5), Some("repetitions")),
        Case::push(
            "a bigint beyond 2^53",
            edit(practice(5), json!({ "elapsed_ms": 9_007_199_254_740_993_i64 }), &[]),
            "invalid_value",
        )
        .at("practice_record", key(5), Some("elapsed_ms")),
        Case::push(
            "a real given as text",
            edit(practice(5), json!({ "easiness": "2.5" }), &[]),
            "invalid_value",
        )
        .at("practice_record", key(5), Some("easiness")),
        Case::push(
            "a boolean given as 1",
            edit(note_on(&id(TUNE)), json!({ "pinned": 1 }), &[]),
            "invalid_value",
        )
        .at("note", key(300), Some("pinned"))
        .says("true or false"),
        Case::push(
            "`deleted: \"false\"`, a boolean given as text",
            edit(tune_of(4), json!({ "deleted": "false" }), &[]),
            "invalid_value",
        )
        .at("tune", key(4), Some("deleted")),
        Case::push(
            "an enum value not allowed",
            edit(tune_of(4), json!({ "type": "march" }), &[]),
            "invalid_value",
        )
        .at("tune", key(4), Some("type"))
        .says("`march` is not one of"),
        // A table without a deleted column that does not opt into hard deletes refuses deletes
        // with `delete_not_supported`: sync_deletes.rs, on a schema without the example's opt-in.
        Case::push(
            "a delete in the public table genre",
            delete("genre", json!({ "id": "irish" }), &at(50)),
            "forbidden",
        )
        .status(StatusCode::FORBIDDEN)
        .at("genre", None, None)
        .says("public"),
        Case::push(
            "a delete whose key has a column that is not the key",
            delete("tune", json!({ "id": id(TUNE), "title": "x" }), &at(50)),
            "unknown_column",
        )
        .at("tune", key(TUNE), Some("title")),
        Case::push(
            "a delete on an unknown table",
            delete("tunes", json!({ "id": id(TUNE) }), &at(50)),
            "unknown_table",
        )
        .at("tunes", None, None),
        Case::push(
            "two changes of one row",
            edit(valid(), json!({ "title": "Again" }), &[]),
            "duplicate_change",
        )
        .at("tune", key(NEW_TUNE), None),
        Case::push(
            "two changes of one row, the second a delete",
            delete("tune", json!({ "id": id(NEW_TUNE) }), &at(51)),
            "duplicate_change",
        )
        .at("tune", key(NEW_TUNE), None),
    ]
}
