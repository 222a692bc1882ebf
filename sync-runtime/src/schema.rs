//! Static metadata of an application schema, as generated from `schema.toml`.
//!
//! The generator writes one [`SchemaMeta`] and one [`TableMeta`] per table as `static` data, so
//! the runtime can walk tables and columns without knowing any of their names at compile time.

use serde::Serialize;
use serde::de::DeserializeOwned;

#[cfg(feature = "server")]
pub mod from_ir;

/// A whole schema: its name, the version clients send in every sync request, and its tables in
/// foreign key dependency order (a table comes after every table it references).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaMeta {
    pub name: &'static str,
    pub version: u32,
    /// The oldest `version` whose clients the server still syncs: a client of an older one is
    /// answered `upgrade_required` (HTTP 426).
    pub min_client_version: u32,
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
}

/// Who may read and write a table's rows through sync (DESIGN sections 3 and 5.4).
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

/// The logical column types of `schema.toml` (DESIGN section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

/// A row type of one table, serialized in the wire format (DESIGN section 4). Generated row
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
    };
    const KIND: ColumnMeta = ColumnMeta {
        name: "kind",
        ty: LogicalType::Text,
        nullable: false,
        has_default: false,
        values: Some(&["a", "b"]),
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
    };
    static SCHEMA: SchemaMeta =
        SchemaMeta { name: "s", version: 1, min_client_version: 1, tables: &[&PARENT, &LOCAL] };

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
