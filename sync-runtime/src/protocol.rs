//! The sync protocol (docs/sync.md): the request and response bodies of `POST /api/sync`.
//!
//! The message types are in `protocol/messages.rs`, a file `cargo xtask gen` prints from
//! `codegen::protocol` (the one description the TypeScript `sync-types.ts` is printed from too)
//! and `cargo xtask check` keeps current, so no copy is kept by hand and the runtime does not
//! build the generator. Rows travel as raw JSON ([`Row`]): the engine parses pushed rows once to
//! validate them, and passes pulled rows through.

use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

mod messages;

pub use messages::*;

/// A primary key, or any JSON object: column name to value.
pub type Key = serde_json::Map<String, serde_json::Value>;

/// A row in its wire form (a JSON object with snake_case columns).
///
/// A row the server pulls from its database is kept as JSON text and passed to the response
/// without building a tree of it; a row read from a request is kept as the parsed object the
/// engine validates. (Reading borrows nothing from the request text, because the unions a row
/// sits in, [`PushChange`] and [`PulledChange`], are buffered by serde, which raw values cannot
/// come from.)
#[derive(Clone)]
pub struct Row(RowRepr);

#[derive(Clone)]
enum RowRepr {
    Json(Box<RawValue>),
    Values(Key),
}

impl Row {
    /// A row from its JSON text, which must be an object.
    pub fn from_json(text: String) -> Result<Self, serde_json::Error> {
        if !text.trim_start().starts_with('{') {
            return Err(serde_json::Error::custom("a row must be a JSON object"));
        }
        RawValue::from_string(text).map(|raw| Row(RowRepr::Json(raw)))
    }

    /// A row from its columns.
    pub fn from_values(values: Key) -> Self {
        Row(RowRepr::Values(values))
    }

    /// The row's columns.
    pub fn values(&self) -> Result<Key, serde_json::Error> {
        match &self.0 {
            RowRepr::Json(raw) => serde_json::from_str(raw.get()),
            RowRepr::Values(values) => Ok(values.clone()),
        }
    }

    /// The row's columns, without a copy when they are parsed already.
    pub fn into_values(self) -> Result<Key, serde_json::Error> {
        match self.0 {
            RowRepr::Json(raw) => serde_json::from_str(raw.get()),
            RowRepr::Values(values) => Ok(values),
        }
    }
}

impl fmt::Debug for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            RowRepr::Json(raw) => f.write_str(raw.get()),
            RowRepr::Values(values) => write!(f, "{}", serde_json::Value::from(values.clone())),
        }
    }
}

impl Serialize for Row {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            RowRepr::Json(raw) => raw.serialize(serializer),
            RowRepr::Values(values) => values.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Row {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Key::deserialize(deserializer).map(Row::from_values)
    }
}

/// The JSON value `true` and nothing else: the `deleted` mark of a pulled deletion.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct True;

impl Serialize for True {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bool(true)
    }
}

impl<'de> Deserialize<'de> for True {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if bool::deserialize(deserializer)? {
            Ok(True)
        } else {
            Err(D::Error::custom("expected `true`"))
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The examples of docs/sync.md parse, and print back as they were.
    #[test]
    fn design_examples_round_trip() {
        let request = json!({
            "schema_version": 3,
            "client_id": "8f14e45f-ceea-467f-a8f8-1b3c1d6e6c11",
            "cursor": null,
            "page_size": 1000,
            "changes": [
                { "table": "tune", "op": "upsert", "row": { "id": "a", "title": "x" } },
                { "table": "tune", "op": "delete", "key": { "id": "a" },
                  "modified_at": "2026-11-24T10:00:00.000Z" }
            ]
        });
        let parsed: SyncRequest = serde_json::from_value(request.clone()).unwrap();
        assert!(matches!(parsed.changes[0], PushChange::UpsertChange(_)));
        let PushChange::DeleteChange(delete) = &parsed.changes[1] else { panic!("a delete") };
        assert_eq!(delete.key["id"], "a");
        assert_eq!(serde_json::to_value(&parsed).unwrap(), request);

        let response = json!({
            "changes": [
                { "table": "tune", "row": { "id": "a", "deleted": true } },
                { "table": "genre", "key": { "id": "g" }, "deleted": true }
            ],
            "cursor": "c", "has_more": false, "server_time": "2026-11-24T10:00:00.000Z",
            "rejected": [ { "table": "tune", "key": { "id": "a" }, "reason": "clock_skew",
                            "message": "this change of `tune` is dated too far in the future",
                            "server_row": null } ]
        });
        let parsed: SyncResponse = serde_json::from_value(response.clone()).unwrap();
        assert!(matches!(parsed.changes[0], PulledChange::PulledRow(_)));
        assert!(matches!(parsed.changes[1], PulledChange::PulledDelete(_)));
        assert_eq!(serde_json::to_value(&parsed).unwrap(), response);
    }

    #[test]
    fn a_wrong_op_or_a_false_deleted_is_refused() {
        let change = json!({ "table": "t", "op": "merge", "row": {} });
        let error = serde_json::from_value::<PushChange>(change).unwrap_err().to_string();
        assert!(error.contains("unknown variant `merge`"), "{error}");
        assert!(serde_json::from_value::<True>(json!(false)).is_err());
    }
}
