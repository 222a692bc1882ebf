//! The schema-agnostic sync runtime.
//!
//! Nothing here names a table or a column: everything the runtime knows about an application's
//! schema comes from the metadata the generator produced from `schema.toml` ([`schema`]). The
//! wire format of values ([`wire`], DESIGN section 4) and the protocol ([`protocol`], DESIGN 5.1)
//! are shared by server and client. The `server` feature (on by default) adds the rest: JWT
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
pub mod schema;
#[cfg(feature = "server")]
pub mod server;
#[cfg(any(feature = "server", feature = "client"))]
mod sql;
#[cfg(any(feature = "server", feature = "client"))]
mod sqlite_value;
#[cfg(feature = "server")]
pub mod store;
pub mod wire;
