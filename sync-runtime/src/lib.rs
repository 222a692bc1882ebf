//! The schema-agnostic sync runtime.
//!
//! Nothing here names a table or a column: everything the runtime knows about an application's
//! schema comes from the metadata the generator produced from `schema.toml` ([`schema`]). The
//! wire format of values ([`wire`], DESIGN section 4) and the protocol ([`protocol`], DESIGN 5.1)
//! are shared by server and client.

pub mod auth;
pub mod engine;
pub mod protocol;
pub mod schema;
pub mod server;
pub mod store;
pub mod wire;
