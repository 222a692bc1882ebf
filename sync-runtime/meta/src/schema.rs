//! Static metadata of an application schema, as generated from `schema.toml`.
//!
//! The generator writes one [`SchemaMeta`] and one [`TableMeta`] per table as `static` data, so
//! the runtime can walk tables and columns without knowing any of their names at compile time.
//! The generator's own IR uses the same [`LogicalType`] and storage types, so a fact about a
//! column is spelled once in the workspace.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A whole schema: its name, the version clients send in every sync request, and its tables in
/// foreign key dependency order (a table comes after every table it references).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaMeta {
    pub name: &'static str,
    pub version: u32,
    /// The oldest `version` whose clients the server still syncs: a client of an older one is
    /// answered `upgrade_required` (HTTP 426).
    pub min_client_version: u32,
    /// How the SQLite databases store `timestamp` columns.
    pub timestamp_storage: TimestampStorage,
    /// References rather than values, so that `SCHEMA.table("t")` and `<T as SyncRow>::TABLE`
    /// are the same metadata, written once by the generator.
    pub tables: &'static [&'static TableMeta],
}

impl SchemaMeta {
    /// The table called `name`, if the schema has one.
    pub fn table(&self, name: &str) -> Option<&'static TableMeta> {
        self.tables.iter().copied().find(|t| t.name == name)
    }

    /// Whether a row of `table` with no owner is everyone's to read: the table, or the table its
    /// `via:` chain ends at, is `public` or `owner_or_public`. False for unsynced tables and for
    /// a chain that does not end (validation refuses both for synced tables).
    pub fn public_when_unowned(&self, mut table: &TableMeta) -> bool {
        for _ in 0..=self.tables.len() {
            match table.scope {
                Scope::Public | Scope::OwnerOrPublic => return true,
                Scope::Owner | Scope::None => return false,
                Scope::Via { parent_table, .. } => match self.table(parent_table) {
                    Some(parent) => table = parent,
                    None => return false,
                },
            }
        }
        false
    }
}

/// One table: its columns in declaration order, its key, and how it takes part in sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableMeta {
    pub name: &'static str,
    pub columns: &'static [ColumnMeta],
    /// The primary key's columns, in key order.
    pub primary_key: &'static [&'static str],
    pub scope: Scope,
    pub sync: SyncColumns,
    pub targets: Targets,
    /// The constraints and indexes of the generated DDL, by name.
    pub constraints: Constraints,
    /// What a client's delete of a row does.
    pub deletes: Deletes,
}

impl TableMeta {
    /// The column called `name`, if the table has one.
    pub fn column(&self, name: &str) -> Option<&'static ColumnMeta> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Whether clients sync this table at all.
    pub fn is_synced(&self) -> bool {
        self.scope != Scope::None
    }
}

/// One column of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnMeta {
    pub name: &'static str,
    pub ty: LogicalType,
    pub nullable: bool,
    /// Whether the database fills the column when an insert leaves it out.
    pub has_default: bool,
    /// The allowed values of an enum column; `None` when unrestricted.
    pub values: Option<&'static [&'static str]>,
    /// Where the stored type differs from the default mapping of `ty` (legacy databases).
    pub storage: Storage,
}

/// A table's constraints and indexes with the names the generated DDL gives them, so that the
/// server names the one that refused a change the same way whatever the database reports (SQLite
/// names columns where Postgres names constraints), and knows which columns are indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Constraints {
    /// The primary key constraint's name.
    pub primary_key: &'static str,
    /// Unique constraints and unique indexes.
    pub unique: &'static [KeyMeta],
    pub foreign_keys: &'static [ForeignKeyMeta],
    /// The table's checks and its columns' own (enums, types SQLite does not enforce).
    pub checks: &'static [CheckMeta],
    /// Indexes that are not unique.
    pub indexes: &'static [KeyMeta],
}

impl Constraints {
    /// Whether `column` is in the primary key, a unique key or an index: a database must fit its
    /// values into an index entry.
    pub fn indexes_column(&self, primary_key: &[&str], column: &str) -> bool {
        primary_key.contains(&column)
            || self.unique.iter().chain(self.indexes).any(|k| k.columns.contains(&column))
    }
}

/// A unique key or an index: its name and columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyMeta {
    pub name: &'static str,
    pub columns: &'static [&'static str],
}

/// A foreign key: `columns` reference `ref_columns` of `ref_table`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForeignKeyMeta {
    pub name: &'static str,
    pub columns: &'static [&'static str],
    pub ref_table: &'static str,
    pub ref_columns: &'static [&'static str],
}

/// A check constraint, and the column it is about when it is a column's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckMeta {
    pub name: &'static str,
    pub column: Option<&'static str>,
}

/// What a client's delete of a row of a table does (docs/format.md, `deletes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletes {
    /// The server sets the row's soft-delete flag ([`SyncColumns::deleted`]); the row stays.
    Soft,
    /// The server removes the row (a table without a soft-delete column that opts in); the
    /// user's other devices pull it as a deletion.
    Hard,
    /// Clients cannot delete the table's rows: the server refuses, and so do the devices.
    Never,
}

/// Who may read and write a table's rows through sync (docs/sync.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Private rows: the owner column holds the JWT subject.
    Owner,
    /// Owner NULL means readable by all and writable by none.
    OwnerOrPublic,
    /// A catalog: clients read, never write.
    Public,
    /// Owned through the row of `parent_table` that the foreign key column `column` references.
    Via { column: &'static str, parent_table: &'static str },
    /// Not synced.
    None,
}

/// The bookkeeping columns of a synced table, by name; all `None` for an unsynced table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncColumns {
    /// The owner (JWT subject) column.
    pub owner: Option<&'static str>,
    /// The conflict clock: last write wins on this timestamp.
    pub modified: Option<&'static str>,
    /// The soft-delete flag; `None` when clients may not delete.
    pub deleted: Option<&'static str>,
    /// The server's write counter.
    pub version: Option<&'static str>,
    /// The id of the client that wrote the row last.
    pub device: Option<&'static str>,
}

/// Which databases a table exists in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Targets {
    pub sqlite: bool,
    pub postgres: bool,
}

/// The logical column types of `schema.toml`; `codegen::types` maps each to every target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogicalType {
    Text,
    Uuid,
    Integer,
    Bigint,
    Real,
    Boolean,
    Timestamp,
    Date,
    Json,
}

impl LogicalType {
    /// Every logical type, in the order the documentation lists them.
    pub const ALL: [LogicalType; 9] = [
        LogicalType::Text,
        LogicalType::Uuid,
        LogicalType::Integer,
        LogicalType::Bigint,
        LogicalType::Real,
        LogicalType::Boolean,
        LogicalType::Timestamp,
        LogicalType::Date,
        LogicalType::Json,
    ];

    /// The spelling used in `schema.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogicalType::Text => "text",
            LogicalType::Uuid => "uuid",
            LogicalType::Integer => "integer",
            LogicalType::Bigint => "bigint",
            LogicalType::Real => "real",
            LogicalType::Boolean => "boolean",
            LogicalType::Timestamp => "timestamp",
            LogicalType::Date => "date",
            LogicalType::Json => "json",
        }
    }
}

/// How SQLite stores a `timestamp` column, one choice for the whole schema.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimestampStorage {
    /// RFC 3339 text in UTC with milliseconds: `2026-11-24T10:00:00.000Z`.
    #[default]
    Text,
    /// Milliseconds since the Unix epoch.
    Integer,
}

impl TimestampStorage {
    pub const ALL: [TimestampStorage; 2] = [TimestampStorage::Text, TimestampStorage::Integer];

    /// The spelling used in `schema.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            TimestampStorage::Text => "text",
            TimestampStorage::Integer => "integer",
        }
    }
}

/// Storage choices that differ from the default mapping, validated to be compatible.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Storage {
    /// Postgres type override for `timestamp` and `real` columns.
    pub postgres: Option<PostgresType>,
    /// `integer` for a 0/1 boolean, `text` for JSON kept as text (both databases).
    pub stored_as: Option<StoredAs>,
}

/// A Postgres type a legacy column keeps instead of the default mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PostgresType {
    /// `timestamp` (without time zone), microsecond precision.
    Timestamp,
    /// `timestamptz` with the default (microsecond) precision.
    Timestamptz,
    /// `real` (float4).
    Real,
}

impl PostgresType {
    pub const ALL: [PostgresType; 3] =
        [PostgresType::Timestamp, PostgresType::Timestamptz, PostgresType::Real];

    /// The spelling used in `schema.toml` (which is also the Postgres type).
    pub fn as_str(self) -> &'static str {
        match self {
            PostgresType::Timestamp => "timestamp",
            PostgresType::Timestamptz => "timestamptz",
            PostgresType::Real => "real",
        }
    }
}

/// A storage class a legacy column keeps in both databases instead of the default mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoredAs {
    /// A 0/1 `integer` for a `boolean`.
    Integer,
    /// `text` for a `json` document.
    Text,
}

impl StoredAs {
    pub const ALL: [StoredAs; 2] = [StoredAs::Integer, StoredAs::Text];

    /// The spelling used in `schema.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            StoredAs::Integer => "integer",
            StoredAs::Text => "text",
        }
    }
}

/// A row type of one table, serialized in the wire format (docs/types.md). Generated row
/// structs implement it; `TABLE` is the metadata the runtime reads to handle them generically.
pub trait SyncRow: Serialize + DeserializeOwned {
    const TABLE: &'static TableMeta;
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: ColumnMeta = ColumnMeta {
        name: "id",
        ty: LogicalType::Uuid,
        nullable: false,
        has_default: true,
        values: None,
        storage: Storage { postgres: None, stored_as: None },
    };
    const KIND: ColumnMeta = ColumnMeta {
        name: "kind",
        ty: LogicalType::Text,
        nullable: false,
        has_default: false,
        values: Some(&["a", "b"]),
        storage: Storage { postgres: None, stored_as: None },
    };
    const NO_CONSTRAINTS: Constraints = Constraints {
        primary_key: "pkey",
        unique: &[],
        foreign_keys: &[],
        checks: &[],
        indexes: &[],
    };
    static PARENT: TableMeta = TableMeta {
        name: "parent",
        columns: &[ID],
        primary_key: &["id"],
        scope: Scope::Public,
        sync: SyncColumns {
            owner: None,
            modified: None,
            deleted: None,
            version: None,
            device: None,
        },
        targets: Targets { sqlite: true, postgres: true },
        constraints: NO_CONSTRAINTS,
        deletes: Deletes::Never,
    };
    static LOCAL: TableMeta = TableMeta {
        name: "local",
        columns: &[ID, KIND],
        primary_key: &["id"],
        scope: Scope::None,
        sync: SyncColumns {
            owner: None,
            modified: None,
            deleted: None,
            version: None,
            device: None,
        },
        targets: Targets { sqlite: true, postgres: false },
        constraints: NO_CONSTRAINTS,
        deletes: Deletes::Never,
    };
    static SCHEMA: SchemaMeta = SchemaMeta {
        name: "s",
        version: 1,
        min_client_version: 1,
        timestamp_storage: TimestampStorage::Text,
        tables: &[&PARENT, &LOCAL],
    };

    #[test]
    fn lookups_find_tables_and_columns_by_name() {
        let local = SCHEMA.table("local").expect("local is listed");
        assert!(std::ptr::eq(local, &LOCAL));
        assert_eq!(local.column("kind").and_then(|c| c.values), Some(&["a", "b"][..]));
        assert_eq!(local.column("missing"), None);
        assert_eq!(SCHEMA.table("missing"), None);
    }

    #[test]
    fn only_scope_none_is_unsynced() {
        assert!(PARENT.is_synced());
        assert!(!LOCAL.is_synced());
    }

    #[test]
    fn logical_types_spell_as_in_schema_toml() {
        assert_eq!(LogicalType::Timestamp.as_str(), "timestamp");
        assert_eq!(LogicalType::Json.as_str(), "json");
    }
}
