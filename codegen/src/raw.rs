//! Serde types that mirror `schema.toml` as written, before any validation.
//!
//! The same types derive the published JSON Schema (see `emit::json_schema`), so editors and
//! the loader can never disagree on the format. Whatever validation may point at keeps its place
//! in the file (`toml::Spanned`), so problems are located without going back to the TOML tree;
//! `#[schemars(with = ...)]` keeps the positions out of the JSON Schema.

use std::borrow::Cow;
use std::marker::PhantomData;

use indexmap::IndexMap;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use sync_meta::schema::{LogicalType, PostgresType, StoredAs, TimestampStorage};
use toml::Spanned;

/// A whole `schema.toml`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "schema.toml",
    description = "One schema for SQLite, Postgres, TypeScript and Rust."
)]
pub struct Document {
    #[schemars(with = "SchemaMeta")]
    pub schema: Spanned<SchemaMeta>,
    /// Defaults for synced tables; each table may override them.
    #[serde(default)]
    pub sync: SyncDefaults,
    /// The tables; the order of keys is the order of declaration.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, Table>")]
    pub tables: IndexMap<Spanned<String>, Spanned<Table>>,
    /// How this version may differ from the previous one (`cargo xtask check --against`).
    #[serde(default)]
    pub evolution: Evolution,
    /// Settings of the Postgres target alone.
    #[serde(default)]
    pub postgres: PostgresSettings,
    /// SQL the team owns (views, functions, grants, triggers, policies), by target: files
    /// pasted after everything generated in that target's DDL; docs/format.md.
    #[serde(default)]
    pub extra_sql: ExtraSql,
}

/// `[extra_sql]`: for each generated DDL file, the `.sql` files (paths relative to the folder
/// of `schema.toml`) appended to it, in this order.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtraSql {
    /// Appended to `sql/postgres.sql`.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub postgres: Vec<Spanned<String>>,
    /// Appended to `sql/sqlite.sql`, the devices' database.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub sqlite: Vec<Spanned<String>>,
    /// Appended to `sql/sqlite-server.sql`, the embedded sync server's database.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub sqlite_server: Vec<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PostgresSettings {
    /// Row-level security policies generated from the sync scopes, for clients that reach the
    /// tables other than through the sync server (PostgREST, Supabase); docs/rls.md.
    #[schemars(with = "Option<Rls>")]
    pub rls: Option<Spanned<Rls>>,
}

/// `[postgres] rls = { user = "auth.uid()", force = false }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rls {
    /// The SQL expression for the current user's id, compared with owner columns:
    /// `auth.uid()` on Supabase, or `current_setting('request.jwt.claim.sub', true)`.
    #[schemars(with = "String", length(min = 1))]
    pub user: Spanned<String>,
    /// `true`: `FORCE ROW LEVEL SECURITY`, so that the tables' owner is held to the policies too.
    #[serde(default)]
    pub force: bool,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Evolution {
    /// Breaking changes made on purpose, each with its reason: `[[evolution.allow]]`.
    #[serde(default)]
    #[schemars(with = "Vec<Allowance>")]
    pub allow: Vec<Spanned<Allowance>>,
}

/// One change that `cargo xtask check --against` lets through, and why.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Allowance {
    /// The rule id, such as `drop_column`.
    #[schemars(with = "crate::ir::Rule")]
    pub rule: Spanned<String>,
    /// The table the change is on (none for `[schema]` rules such as `version_not_bumped`).
    #[schemars(with = "Option<String>")]
    pub table: Option<Spanned<String>>,
    /// For column rules: the column; without it, every column of the table.
    #[schemars(with = "Option<String>")]
    pub column: Option<Spanned<String>>,
    /// Why the change is safe for this app, or what was done instead of expand/contract.
    #[schemars(with = "String", length(min = 1))]
    pub reason: Spanned<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SchemaMeta {
    /// The application's name.
    pub name: String,
    /// Bump on every change clients see; sent in every sync request.
    #[schemars(with = "u32", range(min = 1))]
    pub version: Spanned<u32>,
    /// The oldest `version` whose clients the server still syncs; by default `version`, only
    /// clients of this version. Keep it low across changes old clients can live with (new
    /// nullable or defaulted columns, new tables); raise it to `version` with a change they
    /// cannot (`cargo xtask check --against` says which).
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(min = 1))]
    pub min_client_version: Option<Spanned<u32>>,
    /// How SQLite stores timestamps: RFC 3339 text (default) or integer milliseconds.
    #[serde(default)]
    #[schemars(with = "Option<Spelled<TimestampStorage>>")]
    pub timestamp_storage: Option<Spanned<TimestampStorage>>,
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
    /// The table's name in the previous version: a rename, which migrations carry out in place
    /// (keeping the rows) and the breaking-change gate reports as one. Harmless history once no
    /// older version has that name.
    #[schemars(with = "Option<String>")]
    pub renamed_from: Option<Spanned<String>>,
    /// `owner` | `owner_or_public` | `public` | `via:<fk column>` | `none` (the default).
    #[schemars(with = "Option<ScopeSpelling>")]
    pub sync: Option<Spanned<String>>,
    /// Limit a table that is not synced to some databases.
    #[schemars(with = "Option<Vec<Target>>")]
    pub targets: Option<Spanned<Vec<Target>>>,
    /// Overrides of the `[sync]` defaults: a column name, or `false` for none.
    #[schemars(with = "Option<ColumnSetting>")]
    pub owner: Option<Spanned<ColumnSetting>>,
    #[schemars(with = "Option<ColumnSetting>")]
    pub modified: Option<Spanned<ColumnSetting>>,
    #[schemars(with = "Option<ColumnSetting>")]
    pub deleted: Option<Spanned<ColumnSetting>>,
    #[schemars(with = "Option<ColumnSetting>")]
    pub version: Option<Spanned<ColumnSetting>>,
    #[schemars(with = "Option<ColumnSetting>")]
    pub device: Option<Spanned<ColumnSetting>>,
    /// What a client's delete does: `soft` (set the soft-delete flag; the default of a table
    /// with one) or `hard` (remove the row, for a table without one). A table without a
    /// soft-delete column and without `deletes = "hard"` refuses client deletes.
    #[schemars(with = "Option<DeletesSetting>")]
    pub deletes: Option<Spanned<DeletesSetting>>,
    /// A composite primary key (instead of `primary_key = true` on one column).
    #[schemars(with = "Option<Vec<String>>")]
    pub primary_key: Option<Spanned<Vec<String>>>,
    /// The primary key constraint's name (default `<table>_pkey`).
    #[schemars(with = "Option<String>")]
    pub primary_key_name: Option<Spanned<String>>,
    #[serde(default)]
    #[schemars(with = "Vec<UniqueSpec>")]
    pub unique: Vec<Spanned<UniqueSpec>>,
    #[serde(default)]
    #[schemars(with = "Vec<CheckSpec>")]
    pub checks: Vec<Spanned<CheckSpec>>,
    #[serde(default)]
    #[schemars(with = "Vec<ForeignKeySpec>")]
    pub foreign_keys: Vec<Spanned<ForeignKeySpec>>,
    #[serde(default)]
    #[schemars(with = "Vec<IndexSpec>")]
    pub indexes: Vec<Spanned<IndexSpec>>,
    /// The columns; the order of keys is the column order.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, Column>")]
    pub columns: IndexMap<Spanned<String>, Column>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Sqlite,
    Postgres,
}

/// The spellings of a table's `deletes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeletesSetting {
    Soft,
    Hard,
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
    /// `true`: the key holds among live rows only, soft-deleted rows do not count, so a value a
    /// soft delete frees can be taken again. A partial unique index on the table's soft-delete
    /// column; the table must have one.
    #[serde(default = "unwritten")]
    #[schemars(with = "bool")]
    pub live_only: Spanned<bool>,
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
    pub ty: Spanned<LogicalType>,
    /// The column's name in the previous version: a rename, which migrations carry out in place
    /// (keeping the values) and the breaking-change gate reports as one. Harmless history once
    /// no older version has that name.
    #[schemars(with = "Option<String>")]
    pub renamed_from: Option<Spanned<String>>,
    #[serde(default = "unwritten")]
    #[schemars(with = "bool")]
    pub nullable: Spanned<bool>,
    #[serde(default)]
    pub primary_key: bool,
    #[serde(default = "unwritten")]
    #[schemars(with = "bool")]
    pub unique: Spanned<bool>,
    /// A literal of the column's type, `"random"` (uuid) or `"now"` (timestamp, date).
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Value>")]
    pub default: Option<Spanned<toml::Value>>,
    pub comment: Option<String>,
    /// The allowed values of a `text` column.
    #[schemars(with = "Option<Vec<String>>")]
    pub values: Option<Spanned<Vec<String>>>,
    /// `table.column` this column references.
    #[schemars(with = "Option<String>")]
    pub references: Option<Spanned<String>>,
    pub on_delete: Option<FkAction>,
    pub on_update: Option<FkAction>,
    /// Names for the constraints this column declares (legacy names must survive).
    #[schemars(with = "Option<String>")]
    pub unique_name: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub fk_name: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub check_name: Option<Spanned<String>>,
    /// Postgres storage override: `timestamp`/`timestamptz` for timestamps, `real` for reals.
    #[schemars(with = "Option<Spelled<PostgresType>>")]
    pub postgres_type: Option<Spanned<PostgresType>>,
    /// `integer` for a 0/1 boolean, `text` for JSON kept in text.
    #[schemars(with = "Option<Spelled<StoredAs>>")]
    pub storage: Option<Spanned<StoredAs>>,
    /// A legacy column's own CHECK in Postgres, in place of the generated one (`values`, a 0/1
    /// boolean): its exact expression, or `false` for none.
    #[schemars(with = "Option<CheckSetting>")]
    pub postgres_check: Option<Spanned<CheckSetting>>,
}

/// An expression, or `false` for none.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(untagged, expecting = "an SQL expression or `false`")]
pub enum CheckSetting {
    Expr(String),
    Off(bool),
}

/// A flag that is not written is `false`, and has no place in the file: validation only points
/// at a flag that is set.
fn unwritten() -> Spanned<bool> {
    Spanned::new(0..0, false)
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

/// The JSON Schema of a table's `sync`: one of the fixed scopes, or `via:` and a column name,
/// so that an editor flags a misspelt scope. Validation reads the string itself
/// (`validate::sync`), where `via:` also needs the table's foreign keys.
pub struct ScopeSpelling;

/// The scopes spelt without a column, in the order docs/format.md lists them.
pub(crate) const FIXED_SCOPES: [&str; 4] = ["owner", "owner_or_public", "public", "none"];

impl JsonSchema for ScopeSpelling {
    fn schema_name() -> Cow<'static, str> {
        "SyncScope".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                { "type": "string", "enum": FIXED_SCOPES },
                {
                    "type": "string",
                    "pattern": "^via:[a-z][a-z0-9]*(_[a-z0-9]+)*$",
                    "description": "`via:<fk column>`: owned through the parent row this foreign key column references"
                }
            ]
        })
    }
}
