//! The schema-agnostic sync runtime.
//!
//! Nothing here names a table or a column: everything the runtime knows about an application's
//! schema comes from the metadata the generator produced from `schema.toml` ([`schema`]). For now
//! the crate holds what the generated row types need: that metadata and the serde helpers of the
//! wire format ([`wire`], DESIGN section 4).

pub mod schema;
pub mod wire;
