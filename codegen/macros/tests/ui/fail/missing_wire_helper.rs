//! A timestamp field without the wire helper: serde would write chrono's own format.

use codegen_macros::SyncRow;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, SyncRow)]
#[sync(table = "tune", schema = "tests/ui/schemas/tune.toml")]
struct Tune {
    id: uuid::Uuid,
    user_id: uuid::Uuid,
    title: String,
    r#type: String,
    tempo: Option<i32>,
    deleted: bool,
    last_modified_at: chrono::DateTime<chrono::Utc>,
}

fn main() {}
