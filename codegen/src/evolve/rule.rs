//! The rules of the breaking-change gate: a stable id for each kind of change, its class, and
//! how to make a breaking change in expand/contract steps instead.

use schemars::JsonSchema;

/// How a change affects deployed databases and the clients still in the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// Breaks clients on an older schema version, or loses data.
    Breaking,
    /// A mistake in the change itself, such as a missing version bump.
    Mistake,
    /// Existing rows need a backfill (or a default) before the change can be deployed.
    NeedsBackfill,
    /// Nothing deployed notices.
    Safe,
}

impl Class {
    /// The spelling used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Breaking => "breaking",
            Class::Mistake => "mistake",
            Class::NeedsBackfill => "needs_backfill",
            Class::Safe => "safe",
        }
    }

    /// Whether a finding of this class fails the gate unless `schema.toml` allows it.
    pub fn blocks(self) -> bool {
        matches!(self, Class::Breaking | Class::Mistake)
    }
}

/// What an allowance for a rule must name: nothing, a table, or a table and maybe a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// The whole schema (`[schema]`): an allowance names no table.
    Schema,
    /// A table or one of its constraints: an allowance names the table.
    Table,
    /// A column: an allowance names the table, and the column or none for all of them.
    Column,
}

/// A kind of change between two versions of `schema.toml`, by its stable id: allowances and CI
/// logs refer to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, JsonSchema)]
#[schemars(rename_all = "snake_case")]
pub enum Rule {
    /// A new table (safe).
    AddTable,
    /// A table removed, or removed from one database (breaking).
    DropTable,
    /// A new nullable column (safe).
    AddNullableColumn,
    /// A new NOT NULL column with a default (safe).
    AddColumnWithDefault,
    /// A new NOT NULL column without a default (needs a backfill or a default).
    AddRequiredColumn,
    /// A column removed (breaking).
    DropColumn,
    /// A column's logical type changed (breaking).
    ChangeColumnType,
    /// A column's storage override changed (needs a conversion of existing values).
    ChangeColumnStorage,
    /// A column's default changed (safe).
    ChangeDefault,
    /// A nullable column became NOT NULL (breaking).
    NullableToNotNull,
    /// A NOT NULL column became nullable (breaking for synced tables: old clients' types say
    /// non-null).
    NotNullToNullable,
    /// A value added to an enum column, or its values unrestricted (breaking for synced tables:
    /// old clients may receive a value they do not know).
    AddEnumValue,
    /// A value removed from an enum column, or a text column restricted to values (breaking).
    RemoveEnumValue,
    /// A table's primary key columns changed (breaking).
    ChangePrimaryKey,
    /// A table's sync scope or one of its sync columns changed (breaking).
    ChangeSyncScope,
    /// A new index (safe).
    AddIndex,
    /// An index removed (safe).
    DropIndex,
    /// A new unique constraint or unique index (existing rows may hold duplicates).
    AddUnique,
    /// A unique constraint or unique index removed (safe).
    DropUnique,
    /// A new or changed check constraint (existing rows may violate it).
    AddCheck,
    /// A check constraint removed (safe).
    DropCheck,
    /// A new or changed foreign key (existing rows may have no parent).
    AddForeignKey,
    /// A foreign key removed (safe).
    DropForeignKey,
    /// A foreign key's ON DELETE or ON UPDATE action changed (safe: the server acts, clients
    /// receive the result as usual).
    ChangeForeignKeyAction,
    /// `[schema] timestamp_storage` changed (every SQLite timestamp needs converting).
    ChangeTimestampStorage,
    /// A change clients see without a `[schema] version` bump (a mistake).
    VersionNotBumped,
    /// `[schema] version` went down (a mistake).
    VersionDecreased,
    /// A breaking change while `[schema] min_client_version` still admits the clients it breaks
    /// (a mistake: the server would sync them into a schema they cannot read).
    MinClientVersionTooLow,
}

impl Rule {
    pub const ALL: [Rule; 28] = [
        Rule::AddTable,
        Rule::DropTable,
        Rule::AddNullableColumn,
        Rule::AddColumnWithDefault,
        Rule::AddRequiredColumn,
        Rule::DropColumn,
        Rule::ChangeColumnType,
        Rule::ChangeColumnStorage,
        Rule::ChangeDefault,
        Rule::NullableToNotNull,
        Rule::NotNullToNullable,
        Rule::AddEnumValue,
        Rule::RemoveEnumValue,
        Rule::ChangePrimaryKey,
        Rule::ChangeSyncScope,
        Rule::AddIndex,
        Rule::DropIndex,
        Rule::AddUnique,
        Rule::DropUnique,
        Rule::AddCheck,
        Rule::DropCheck,
        Rule::AddForeignKey,
        Rule::DropForeignKey,
        Rule::ChangeForeignKeyAction,
        Rule::ChangeTimestampStorage,
        Rule::VersionNotBumped,
        Rule::VersionDecreased,
        Rule::MinClientVersionTooLow,
    ];

    /// The stable id, as written in `schema.toml` allowances and printed in reports.
    pub fn id(self) -> &'static str {
        match self {
            Rule::AddTable => "add_table",
            Rule::DropTable => "drop_table",
            Rule::AddNullableColumn => "add_nullable_column",
            Rule::AddColumnWithDefault => "add_column_with_default",
            Rule::AddRequiredColumn => "add_required_column",
            Rule::DropColumn => "drop_column",
            Rule::ChangeColumnType => "change_column_type",
            Rule::ChangeColumnStorage => "change_column_storage",
            Rule::ChangeDefault => "change_default",
            Rule::NullableToNotNull => "nullable_to_not_null",
            Rule::NotNullToNullable => "not_null_to_nullable",
            Rule::AddEnumValue => "add_enum_value",
            Rule::RemoveEnumValue => "remove_enum_value",
            Rule::ChangePrimaryKey => "change_primary_key",
            Rule::ChangeSyncScope => "change_sync_scope",
            Rule::AddIndex => "add_index",
            Rule::DropIndex => "drop_index",
            Rule::AddUnique => "add_unique",
            Rule::DropUnique => "drop_unique",
            Rule::AddCheck => "add_check",
            Rule::DropCheck => "drop_check",
            Rule::AddForeignKey => "add_foreign_key",
            Rule::DropForeignKey => "drop_foreign_key",
            Rule::ChangeForeignKeyAction => "change_foreign_key_action",
            Rule::ChangeTimestampStorage => "change_timestamp_storage",
            Rule::VersionNotBumped => "version_not_bumped",
            Rule::VersionDecreased => "version_decreased",
            Rule::MinClientVersionTooLow => "min_client_version_too_low",
        }
    }

    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.id() == id)
    }

    /// The class of a change under this rule. Two rules only matter to clients that sync the
    /// table (their generated types go stale); on a table no client syncs they are safe.
    pub fn class(self, synced: bool) -> Class {
        match self {
            Rule::AddTable
            | Rule::AddNullableColumn
            | Rule::AddColumnWithDefault
            | Rule::ChangeDefault
            | Rule::AddIndex
            | Rule::DropIndex
            | Rule::DropUnique
            | Rule::DropCheck
            | Rule::DropForeignKey
            | Rule::ChangeForeignKeyAction => Class::Safe,
            Rule::AddRequiredColumn
            | Rule::ChangeColumnStorage
            | Rule::AddUnique
            | Rule::AddCheck
            | Rule::AddForeignKey
            | Rule::ChangeTimestampStorage => Class::NeedsBackfill,
            Rule::NotNullToNullable | Rule::AddEnumValue if !synced => Class::Safe,
            Rule::DropTable
            | Rule::DropColumn
            | Rule::ChangeColumnType
            | Rule::NullableToNotNull
            | Rule::NotNullToNullable
            | Rule::AddEnumValue
            | Rule::RemoveEnumValue
            | Rule::ChangePrimaryKey
            | Rule::ChangeSyncScope => Class::Breaking,
            Rule::VersionNotBumped | Rule::VersionDecreased | Rule::MinClientVersionTooLow => {
                Class::Mistake
            }
        }
    }

    /// What an allowance for this rule names.
    pub fn subject(self) -> Subject {
        match self {
            Rule::ChangeTimestampStorage
            | Rule::VersionNotBumped
            | Rule::VersionDecreased
            | Rule::MinClientVersionTooLow => Subject::Schema,
            Rule::AddNullableColumn
            | Rule::AddColumnWithDefault
            | Rule::AddRequiredColumn
            | Rule::DropColumn
            | Rule::ChangeColumnType
            | Rule::ChangeColumnStorage
            | Rule::ChangeDefault
            | Rule::NullableToNotNull
            | Rule::NotNullToNullable
            | Rule::AddEnumValue
            | Rule::RemoveEnumValue => Subject::Column,
            _ => Subject::Table,
        }
    }

    /// Whether a change under this rule, on a table some client syncs, is one that clients see
    /// (what they hold, send or may send), so that `[schema] version` must go up. Indexes,
    /// defaults and storage are invisible on the wire.
    pub fn client_visible(self) -> bool {
        !matches!(
            self,
            Rule::AddIndex
                | Rule::DropIndex
                | Rule::ChangeDefault
                | Rule::ChangeColumnStorage
                | Rule::ChangeTimestampStorage
                | Rule::ChangeForeignKeyAction
                | Rule::VersionNotBumped
                | Rule::VersionDecreased
                | Rule::MinClientVersionTooLow
        )
    }

    /// How to do the change safely instead, or what to do before deploying it.
    pub fn recipe(self) -> Option<&'static str> {
        Some(match self {
            Rule::DropTable => {
                "expand/contract: stop writing the table, ship clients that no longer read it, \
                 bump `[schema] version`, then drop it once no older client syncs. A rename looks \
                 the same as a drop and an add: add the new table, write both, backfill, switch \
                 readers, then drop the old one"
            }
            Rule::DropColumn => {
                "expand/contract: stop writing the column, ship clients that ignore it, bump \
                 `[schema] version`, then drop it once no older client syncs. A rename looks the \
                 same as a drop and an add: add the new column, write both, backfill, switch \
                 readers, then drop the old one"
            }
            Rule::ChangeColumnType => {
                "expand/contract: add a new column of the new type, write both, backfill it from \
                 the old one, switch readers, then drop the old column"
            }
            Rule::NullableToNotNull => {
                "expand/contract: give the column a default or ship clients that always send a \
                 value, backfill every NULL, bump `[schema] version`, then make it NOT NULL"
            }
            Rule::NotNullToNullable => {
                "expand/contract: ship clients whose types accept NULL, bump `[schema] version`, \
                 and only then write NULLs; or add a new nullable column instead"
            }
            Rule::AddEnumValue => {
                "expand/contract: ship clients that know the new value first, bump `[schema] \
                 version`, and only then write it"
            }
            Rule::RemoveEnumValue => {
                "expand/contract: stop writing the value, rewrite the rows that hold it, ship \
                 clients that no longer send it, bump `[schema] version`, then remove it"
            }
            Rule::ChangePrimaryKey => {
                "expand/contract: add a new table with the new key, write both, backfill, switch \
                 readers, then drop the old table"
            }
            Rule::ChangeSyncScope => {
                "expand/contract: a scope or sync column decides which rows each client holds; \
                 add a new table with the new scope, write both, backfill, switch clients to it, \
                 then drop the old table"
            }
            Rule::AddRequiredColumn => {
                "give it a `default`; or add it nullable, backfill every row, ship clients that \
                 send it, then make it NOT NULL"
            }
            Rule::ChangeColumnStorage | Rule::ChangeTimestampStorage => {
                "the stored form changes: the migration must convert every existing value"
            }
            Rule::AddUnique => "find and resolve duplicate rows before deploying",
            Rule::AddCheck => {
                "find and fix the rows that violate it before deploying; old clients may still \
                 send such rows"
            }
            Rule::AddForeignKey => "find and fix the rows without a parent before deploying",
            Rule::VersionNotBumped => "bump `[schema] version` in the same change",
            Rule::VersionDecreased => {
                "versions only go up: set `[schema] version` above the old one"
            }
            Rule::MinClientVersionTooLow => {
                "raise `[schema] min_client_version` to the new version: older clients then get \
                 `upgrade_required` (HTTP 426) instead of syncing into a schema they cannot read"
            }
            Rule::AddTable
            | Rule::AddNullableColumn
            | Rule::AddColumnWithDefault
            | Rule::ChangeDefault
            | Rule::AddIndex
            | Rule::DropIndex
            | Rule::DropUnique
            | Rule::DropCheck
            | Rule::DropForeignKey
            | Rule::ChangeForeignKeyAction => return None,
        })
    }
}
