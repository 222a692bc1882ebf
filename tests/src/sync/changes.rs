//! Ids, times and valid pushed changes of the example schema, as the JSON a client sends.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

/// User `n`'s id (the JWT subject).
pub fn user(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012x}")
}

/// Device `n`'s client id; a greater `n` is a greater id, which wins ties of last write wins.
pub fn device_id(n: u32) -> String {
    format!("00000000-0000-4000-9000-{n:012x}")
}

/// Row id `n`.
pub fn id(n: u32) -> String {
    format!("00000000-0000-4000-a000-{n:012x}")
}

/// The conflict time `seconds` after a fixed point in the past.
pub fn at(seconds: i64) -> String {
    let base: DateTime<Utc> = "2025-06-01T00:00:00Z".parse().expect("a time");
    super::timestamp(base + Duration::seconds(seconds))
}

/// The conflict time `offset` from the server's clock now.
pub fn from_now(offset: Duration) -> String {
    use chrono::SubsecRound;
    super::timestamp((Utc::now() + offset).trunc_subsecs(3))
}

/// An upsert of `row` into `table`.
pub fn upsert(table: &str, row: Value) -> Value {
    json!({ "table": table, "op": "upsert", "row": row })
}

/// A delete of the row of `table` with primary key `key`, at `at`.
pub fn delete(table: &str, key: Value, at: &str) -> Value {
    json!({ "table": table, "op": "delete", "key": key, "modified_at": at })
}

/// The user's own profile row.
pub fn profile(user: &str, at: &str) -> Value {
    upsert(
        "user_profile",
        json!({ "id": user, "display_name": "Player", "deleted": false, "last_modified_at": at }),
    )
}

/// A tune of `user`, not deleted.
pub fn tune(id: &str, user: &str, title: &str, at: &str) -> Value {
    upsert(
        "tune",
        json!({ "id": id, "user_id": user, "title": title, "type": "reel", "deleted": false,
                "last_modified_at": at }),
    )
}

pub fn repertoire(id: &str, user: &str, name: &str, at: &str) -> Value {
    upsert(
        "repertoire",
        json!({ "id": id, "user_id": user, "name": name, "deleted": false, "last_modified_at": at }),
    )
}

/// A tune in a repertoire; the row belongs to whoever owns the repertoire.
pub fn repertoire_tune(repertoire: &str, tune: &str, at: &str) -> Value {
    upsert(
        "repertoire_tune",
        json!({ "repertoire_id": repertoire, "tune_id": tune, "position": 1, "goal": "learn",
                "deleted": false, "last_modified_at": at }),
    )
}

pub fn note(id: &str, user: &str, tune: &str, body: &str, at: &str) -> Value {
    upsert(
        "note",
        json!({ "id": id, "user_id": user, "tune_id": tune, "body": body, "deleted": false,
                "last_modified_at": at }),
    )
}

/// A tag: its table has no deleted column.
pub fn tag(id: &str, user: &str, tune: &str, label: &str, at: &str) -> Value {
    upsert(
        "tag",
        json!({ "id": id, "user_id": user, "tune_id": tune, "label": label, "last_modified_at": at }),
    )
}
