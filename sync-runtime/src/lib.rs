//! The schema-agnostic sync runtime.
//!
//! Nothing here names a table or a column: everything the runtime knows about an application's
//! schema comes from the metadata the generator produced from `schema.toml` ([`schema`], from the
//! `sync-meta` crate). The wire format of values ([`wire`], docs/types.md) and the protocol
//! ([`protocol`], docs/sync.md) are shared by server and client. The `server` feature (on by default) adds the rest: JWT
//! [`auth`], the sync [`engine`] and its [`store`]s, the HTTP [`server`] and the `sync-server`
//! binary.

#[cfg(feature = "server")]
pub mod auth;
#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "server")]
pub mod engine;
#[cfg(any(feature = "server", feature = "client"))]
pub mod pokes;
pub mod protocol;
#[cfg(feature = "server")]
pub mod server;
#[cfg(any(feature = "server", feature = "client"))]
mod sql;
#[cfg(any(feature = "server", feature = "client"))]
mod sqlite_value;
#[cfg(feature = "server")]
pub mod store;

pub use sync_meta::{schema, wire};
