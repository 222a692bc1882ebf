//! A field whose type is not the column's.

use codegen_macros::SyncRow;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, SyncRow)]
#[sync(table = "tune", schema = "tests/ui/schemas/tune.toml")]
struct Tune {
    id: uuid::Uuid,
    user_id: uuid::Uuid,
    title: i64,
    r#type: String,
    tempo: Option<i32>,
    deleted: bool,
    #[serde(with = "sync_meta::wire::timestamp")]
    last_modified_at: chrono::DateTime<chrono::Utc>,
}

fn main() {}
