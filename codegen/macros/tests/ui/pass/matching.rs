//! A hand-written struct that matches its table (with `Option` on the nullable column), used
//! next to the `include_schema!` types through the same trait.

use codegen_macros::SyncRow;
use serde::{Deserialize, Serialize};
use sync_meta::schema::SyncRow as _;

mod ui {
    codegen_macros::include_schema!("tests/ui/schemas/tune.toml");
}

#[derive(Debug, PartialEq, Serialize, Deserialize, SyncRow)]
#[sync(table = "tune", schema = "tests/ui/schemas/tune.toml")]
struct Tune {
    id: uuid::Uuid,
    user_id: ::uuid::Uuid,
    title: String,
    r#type: ui::tune::Type,
    tempo: Option<i32>,
    deleted: bool,
    #[serde(with = "sync_meta::wire::timestamp")]
    last_modified_at: chrono::DateTime<chrono::Utc>,
}

fn main() {
    assert_eq!(Tune::TABLE, ui::Tune::TABLE);
    assert_eq!(ui::SCHEMA.table("tune"), Some(Tune::TABLE));
}
