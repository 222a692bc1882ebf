//! The validated schema: plain domain nouns that every emitter reads.
//!
//! Values of these types are only built by `validate`, so emitters may rely on what validation
//! guarantees (every reference resolves, every name is a valid identifier, tables are in foreign
//! key dependency order) without checking again.

pub mod derived;
mod rule;

use std::ops::Range;

pub use rule::{Rule, Subject};
pub use sync_meta::schema::{
    Deletes, LogicalType, PostgresType, Storage, StoredAs, TimestampStorage,
};

/// A byte range in `schema.toml`, kept so that later tools can point back at the source.
pub type Span = Range<usize>;

#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    pub name: String,
    /// Bumped on every change clients see; sent in every sync request.
    pub version: u32,
    /// The oldest `version` whose clients the server still syncs (at most `version`).
    pub min_client_version: u32,
    pub timestamp_storage: TimestampStorage,
    /// Tables in foreign key dependency order: a table comes after every table it references.
    pub tables: Vec<Table>,
    /// Changes from the previous version that the breaking-change gate lets through.
    pub allowances: Vec<Allowance>,
    /// Row-level security policies from the sync scopes in Postgres, when asked for.
    pub rls: Option<Rls>,
    /// The team's own SQL files, each appended to its target's DDL, in `schema.toml`'s order.
    pub extra_sql: Vec<ExtraSql>,
    /// Where `[schema] version` is written.
    pub version_span: Span,
    /// Where `[schema] min_client_version` is written (`version`'s place when it is not).
    pub min_client_version_span: Span,
    /// Where `[schema] timestamp_storage` is written (the `[schema]` section when it is not).
    pub timestamp_storage_span: Span,
}

impl Schema {
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }
}

/// `[postgres] rls`: every synced table gets row-level security and policies equivalent to its
/// sync scope (docs/rls.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rls {
    /// The SQL expression for the current user's id, as written (validated: one expression).
    pub user: String,
    /// `FORCE ROW LEVEL SECURITY` as well, which holds the tables' owner to the policies.
    pub force: bool,
}

/// A file of SQL the team owns (`[extra_sql]`), appended as written to one generated DDL file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraSql {
    pub target: ExtraTarget,
    /// The path as `schema.toml` writes it, relative to its folder.
    pub path: String,
    /// The file's text, without trailing whitespace.
    pub sql: String,
    /// Where the path is written.
    pub span: Span,
}

/// The generated DDL file an `[extra_sql]` file goes into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtraTarget {
    /// `sql/postgres.sql`.
    Postgres,
    /// `sql/sqlite.sql`, the devices' database.
    Sqlite,
    /// `sql/sqlite-server.sql`, the embedded sync server's.
    SqliteServer,
}

impl Schema {
    /// The `[extra_sql]` files of one target, in order.
    pub fn extra_sql(&self, target: ExtraTarget) -> impl Iterator<Item = &ExtraSql> {
        self.extra_sql.iter().filter(move |e| e.target == target)
    }
}

/// A change from the previous version of the schema made on purpose: `[[evolution.allow]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Allowance {
    pub rule: Rule,
    /// The table it applies to; `None` for rules about the whole schema.
    pub table: Option<String>,
    /// For column rules: the column; `None` for every column of the table.
    pub column: Option<String>,
    /// Why; never empty.
    pub reason: String,
    /// The `[[evolution.allow]]` entry.
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub name: String,
    pub comment: Option<String>,
    /// `renamed_from`: the table's name in the previous version (see `crate::rename`).
    pub renamed_from: Option<String>,
    pub scope: SyncScope,
    pub targets: Targets,
    pub columns: Vec<Column>,
    pub primary_key: PrimaryKey,
    pub uniques: Vec<Unique>,
    pub checks: Vec<Check>,
    pub foreign_keys: Vec<ForeignKey>,
    pub indexes: Vec<Index>,
    /// The columns the sync runtime reads and maintains; all `None` for `SyncScope::None`.
    pub sync: SyncColumns,
    /// What a client's delete does: `Soft` exactly when `sync.deleted` is set, `Hard` for a
    /// writable synced table without one that opts in, `Never` otherwise.
    pub deletes: Deletes,
    pub span: Span,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn is_synced(&self) -> bool {
        self.scope != SyncScope::None
    }
}

/// Who may read and write a table's rows through sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncScope {
    /// Private rows: the owner column holds the JWT subject.
    Owner,
    /// Owner NULL means readable by all and writable by none.
    OwnerOrPublic,
    /// A catalog: clients read, never write.
    Public,
    /// Owned through the parent row that this foreign key column references.
    Via { column: String, parent_table: String },
    /// Not synced.
    None,
}

impl SyncScope {
    /// The spelling used in `schema.toml` (`via:<column>` for `Via`).
    pub fn as_toml(&self) -> String {
        match self {
            SyncScope::Owner => "owner".into(),
            SyncScope::OwnerOrPublic => "owner_or_public".into(),
            SyncScope::Public => "public".into(),
            SyncScope::Via { column, .. } => format!("via:{column}"),
            SyncScope::None => "none".into(),
        }
    }
}

/// Which databases a table exists in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Targets {
    pub sqlite: bool,
    pub postgres: bool,
}

/// The bookkeeping columns of a synced table (names of columns of that table).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncColumns {
    pub owner: Option<String>,
    pub modified: Option<String>,
    pub deleted: Option<String>,
    pub version: Option<String>,
    pub device: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub ty: LogicalType,
    pub nullable: bool,
    pub default: Option<DefaultValue>,
    pub comment: Option<String>,
    /// `renamed_from`: the column's name in the previous version (see `crate::rename`).
    pub renamed_from: Option<String>,
    /// The allowed values of a `text` column (an enum); `None` when unrestricted.
    pub values: Option<Vec<String>>,
    /// Where the stored type differs from the default mapping (legacy databases).
    pub storage: Storage,
    /// The name of the CHECK that `values`, a boolean or a storage rule puts on this column.
    pub check_name: String,
    /// What Postgres gets as that CHECK: the generated one, or a legacy table's own.
    pub postgres_check: PostgresCheck,
    pub span: Span,
}

impl Column {
    /// Whether some target may put a CHECK named `check_name` on this column: enums, and every
    /// type with a CHECK in the type table (what SQLite's affinity alone does not enforce).
    pub fn has_check(&self) -> bool {
        self.values.is_some() || crate::types::may_check(self.ty)
    }

    /// Whether Postgres gets the CHECK named `check_name`: for an enum, and for a storage
    /// override whose Postgres type does not enforce the logical type (a 0/1 boolean).
    pub fn postgres_check(&self) -> bool {
        match self.postgres_check {
            PostgresCheck::Generated => self.generates_postgres_check(),
            PostgresCheck::Omitted => false,
            PostgresCheck::Verbatim(_) => true,
        }
    }

    /// Whether the generator writes a CHECK for this column in Postgres, unless overridden.
    pub fn generates_postgres_check(&self) -> bool {
        self.values.is_some() || crate::types::postgres_check(self.ty, self.storage).is_some()
    }
}

/// A column's CHECK in Postgres (`postgres_check` in `schema.toml`): a legacy table keeps its
/// exact constraint, or none, while the column keeps its logical type everywhere else.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PostgresCheck {
    /// The generated CHECK (the enum's values, a 0/1 boolean's range), if the column has one.
    #[default]
    Generated,
    /// No CHECK (`postgres_check = false`).
    Omitted,
    /// This expression, as written.
    Verbatim(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum DefaultValue {
    /// A random (v4) UUID.
    Random,
    /// The current time (or date).
    Now,
    Text(String),
    Integer(i64),
    Real(f64),
    Boolean(bool),
    /// A timestamp literal, normalised to RFC 3339 UTC with milliseconds.
    Timestamp(String),
    /// A date literal, `YYYY-MM-DD`.
    Date(String),
    /// A JSON literal, in compact canonical form.
    Json(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct PrimaryKey {
    pub name: String,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Unique {
    pub name: String,
    pub columns: Vec<String>,
    /// The key holds among rows that are not soft-deleted: a partial unique index on the
    /// table's soft-delete column (which validation guarantees), not a table constraint.
    pub live_only: bool,
    /// Where it is declared: the column's `unique` or the table's `unique` entry.
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub name: String,
    /// Portable SQL that both databases accept.
    pub expr: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ForeignKey {
    pub name: String,
    pub columns: Vec<String>,
    pub ref_table: String,
    pub ref_columns: Vec<String>,
    pub on_delete: Option<FkAction>,
    pub on_update: Option<FkAction>,
    /// Where the reference is written: the column's `references` or the `foreign_keys` entry.
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FkAction {
    Cascade,
    Restrict,
    SetNull,
    SetDefault,
    NoAction,
}

impl FkAction {
    pub fn as_sql(self) -> &'static str {
        match self {
            FkAction::Cascade => "CASCADE",
            FkAction::Restrict => "RESTRICT",
            FkAction::SetNull => "SET NULL",
            FkAction::SetDefault => "SET DEFAULT",
            FkAction::NoAction => "NO ACTION",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Index {
    pub name: String,
    pub columns: Vec<IndexColumn>,
    pub unique: bool,
    /// A partial index's predicate, portable SQL.
    pub predicate: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IndexColumn {
    pub name: String,
    pub descending: bool,
}
