//! A device's SQLite migration script, as the generated crate carries it (`SQLITE_MIGRATIONS`)
//! and the Rust client runs it on open (`ClientConfig::migrations`, docs/drift.md).

use std::borrow::Cow;

/// The SQLite script that brings a device's database from the version before to `version`:
/// `generated/migrations/<version>_*.sqlite.sql`. It sets `PRAGMA user_version` itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    pub version: u32,
    /// Borrowed in the generated crate's `static`, owned when made at run time.
    pub sqlite: Cow<'static, str>,
}

impl Migration {
    pub fn new(version: u32, sqlite: impl Into<Cow<'static, str>>) -> Self {
        Migration { version, sqlite: sqlite.into() }
    }
}
