//! What the generator and the runtime share, with no heavy dependency: the schema metadata
//! ([`schema`]: tables, columns with their logical type and storage, sync scopes and columns),
//! the wire format of values and its limits ([`wire`]), the generated rows' serde written once
//! ([`row`]), database URLs ([`database_url`]), and a device's SQLite migration scripts
//! ([`migration`]).
//!
//! The generated `generated` crate and the sync runtime depend on this crate, never on the
//! generator: an app that only wants its row types compiles serde, serde_json, chrono, uuid and this.

pub mod database_url;
pub mod migration;
pub mod row;
pub mod schema;
pub mod wire;
