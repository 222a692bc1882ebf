//! `schema.toml` against real databases, for `cargo xtask`: the live drift gate compares a
//! Postgres or SQLite database with the DDL the schema generates, and the import writes a
//! `schema.toml` from an existing Postgres schema. The database drivers live here so that the
//! generator and `cargo xtask gen`/`check` never build them (docs/drift.md).

pub mod import;
pub mod live;
