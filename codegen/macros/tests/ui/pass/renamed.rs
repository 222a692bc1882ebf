//! Fields renamed with `#[sync(rename)]` and `#[serde(rename)]`, and an enum column as `String`.

use chrono::{DateTime, Utc};
use codegen_macros::SyncRow;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, SyncRow)]
#[sync(table = "tune", schema = "tests/ui/schemas/tune.toml")]
struct Tune {
    id: uuid::Uuid,
    #[serde(rename = "user_id")]
    owner: uuid::Uuid,
    #[sync(rename = "title")]
    #[serde(rename = "title")]
    name: String,
    #[serde(rename = "type")]
    kind: String,
    tempo: core::option::Option<i32>,
    deleted: bool,
    #[serde(with = "sync_meta::wire::timestamp")]
    last_modified_at: DateTime<Utc>,
}

fn main() {
    let table = <Tune as sync_meta::schema::SyncRow>::TABLE;
    assert_eq!(table.column("title").map(|c| c.nullable), Some(false));
}
