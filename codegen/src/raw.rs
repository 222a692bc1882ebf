//! Serde types that mirror `schema.toml` as written, before any validation.
//!
//! The same types derive the published JSON Schema (see `emit::json_schema`), so editors and
//! the loader can never disagree on the format. Positions are not stored here: `load` reads
//! them from the parsed TOML tree when it reports a problem.

use std::borrow::Cow;
use std::marker::PhantomData;

use indexmap::IndexMap;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use sync_meta::schema::{LogicalType, PostgresType, StoredAs, TimestampStorage};

/// A whole `schema.toml`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "schema.toml",
    description = "One schema for SQLite, Postgres, TypeScript and Rust."
)]
pub struct Document {
    pub schema: SchemaMeta,
    /// Defaults for synced tables; each table may override them.
    #[serde(default)]
    pub sync: SyncDefaults,
    /// The tables; the order of keys is the order of declaration.
    #[serde(default)]
    pub tables: IndexMap<String, Table>,
    /// How this version may differ from the previous one (`cargo xtask check --against`).
    #[serde(default)]
    pub evolution: Evolution,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Evolution {
    /// Breaking changes made on purpose, each with its reason: `[[evolution.allow]]`.
    #[serde(default)]
    pub allow: Vec<Allowance>,
}

/// One change that `cargo xtask check --against` lets through, and why.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Allowance {
    /// The rule id, such as `drop_column`.
    #[schemars(with = "crate::evolve::Rule")]
    pub rule: String,
    /// The table the change is on (none for `[schema]` rules such as `version_not_bumped`).
    pub table: Option<String>,
    /// For column rules: the column; without it, every column of the table.
    pub column: Option<String>,
    /// Why the change is safe for this app, or what was done instead of expand/contract.
    #[schemars(length(min = 1))]
    pub reason: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SchemaMeta {
    /// The application's name.
    pub name: String,
    /// Bump on every change clients see; sent in every sync request.
    #[schemars(range(min = 1))]
    pub version: u32,
    /// The oldest `version` whose clients the server still syncs; by default `version`, only
    /// clients of this version. Keep it low across changes old clients can live with (new
    /// nullable or defaulted columns, new tables); raise it to `version` with a change they
    /// cannot (`cargo xtask check --against` says which).
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub min_client_version: Option<u32>,
    /// How SQLite stores timestamps: RFC 3339 text (default) or integer milliseconds.
    #[serde(default)]
    #[schemars(with = "Option<Spelled<TimestampStorage>>")]
    pub timestamp_storage: Option<TimestampStorage>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncDefaults {
    /// Owner column: rows belong to the JWT subject.
    pub owner: Option<String>,
    /// Conflict clock column (last write wins), a client-supplied timestamp.
    pub modified: Option<String>,
    /// Soft-delete flag column.
    pub deleted: Option<String>,
    /// Bookkeeping column the server increments on every write.
    pub version: Option<String>,
    /// Bookkeeping column set to the writing client's id.
    pub device: Option<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Table {
    pub comment: Option<String>,
    /// `owner` | `owner_or_public` | `public` | `via:<fk column>` | `none` (the default).
    pub sync: Option<String>,
    /// Limit a table that is not synced to some databases.
    pub targets: Option<Vec<Target>>,
    /// Overrides of the `[sync]` defaults: a column name, or `false` for none.
    pub owner: Option<ColumnSetting>,
    pub modified: Option<ColumnSetting>,
    pub deleted: Option<ColumnSetting>,
    pub version: Option<ColumnSetting>,
    pub device: Option<ColumnSetting>,
    /// A composite primary key (instead of `primary_key = true` on one column).
    pub primary_key: Option<Vec<String>>,
    /// The primary key constraint's name (default `<table>_pkey`).
    pub primary_key_name: Option<String>,
    #[serde(default)]
    pub unique: Vec<UniqueSpec>,
    #[serde(default)]
    pub checks: Vec<CheckSpec>,
    #[serde(default)]
    pub foreign_keys: Vec<ForeignKeySpec>,
    #[serde(default)]
    pub indexes: Vec<IndexSpec>,
    /// The columns; the order of keys is the column order.
    #[serde(default)]
    pub columns: IndexMap<String, Column>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Sqlite,
    Postgres,
}

/// A column name, or `false` to say that a table has no such column.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(untagged, expecting = "a column name or `false`")]
pub enum ColumnSetting {
    Name(String),
    Off(bool),
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UniqueSpec {
    pub columns: Vec<String>,
    pub name: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    pub name: String,
    /// Portable SQL that both SQLite and Postgres accept.
    pub expr: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ForeignKeySpec {
    pub columns: Vec<String>,
    /// `table(col, ...)` or `table.col` for a single column.
    pub references: String,
    pub name: Option<String>,
    pub on_delete: Option<FkAction>,
    pub on_update: Option<FkAction>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IndexSpec {
    /// Column names, each optionally followed by `asc` or `desc`.
    pub columns: Vec<String>,
    pub name: Option<String>,
    #[serde(default)]
    pub unique: bool,
    /// A partial index's predicate, portable SQL.
    #[serde(rename = "where")]
    pub predicate: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FkAction {
    Cascade,
    Restrict,
    #[serde(rename = "set null")]
    SetNull,
    #[serde(rename = "set default")]
    SetDefault,
    #[serde(rename = "no action")]
    NoAction,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Column {
    #[serde(rename = "type")]
    #[schemars(with = "Spelled<LogicalType>")]
    pub ty: LogicalType,
    #[serde(default)]
    pub nullable: bool,
    #[serde(default)]
    pub primary_key: bool,
    #[serde(default)]
    pub unique: bool,
    /// A literal of the column's type, `"random"` (uuid) or `"now"` (timestamp, date).
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Value>")]
    pub default: Option<toml::Value>,
    pub comment: Option<String>,
    /// The allowed values of a `text` column.
    pub values: Option<Vec<String>>,
    /// `table.column` this column references.
    pub references: Option<String>,
    pub on_delete: Option<FkAction>,
    pub on_update: Option<FkAction>,
    /// Names for the constraints this column declares (legacy names must survive).
    pub unique_name: Option<String>,
    pub fk_name: Option<String>,
    pub check_name: Option<String>,
    /// Postgres storage override: `timestamp`/`timestamptz` for timestamps, `real` for reals.
    #[schemars(with = "Option<Spelled<PostgresType>>")]
    pub postgres_type: Option<PostgresType>,
    /// `integer` for a 0/1 boolean, `text` for JSON kept in text.
    #[schemars(with = "Option<Spelled<StoredAs>>")]
    pub storage: Option<StoredAs>,
}

/// The JSON Schema of one of the metadata enums that `schema.toml` spells by name: a string
/// among the enum's spellings, under the enum's own name. The enums live in `sync_meta` (one
/// definition for the generator and the runtime), which does not depend on schemars.
pub struct Spelled<T>(PhantomData<T>);

macro_rules! spelled {
    ($($ty:ident),*) => {$(
        impl JsonSchema for Spelled<$ty> {
            fn schema_name() -> Cow<'static, str> {
                stringify!($ty).into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                let spellings: Vec<&str> = $ty::ALL.iter().map(|v| v.as_str()).collect();
                json_schema!({ "type": "string", "enum": spellings })
            }
        }
    )*};
}

spelled!(LogicalType, PostgresType, StoredAs, TimestampStorage);
