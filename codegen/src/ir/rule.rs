//! The ids of the breaking-change rules: the vocabulary `[[evolution.allow]]` entries are
//! written in (validated with the schema) and `cargo xtask check --against` reports in. What
//! each rule means for deployed databases and clients is the gate's business (`evolve`).

use schemars::JsonSchema;

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
    /// A table renamed with `renamed_from` (migrations keep its rows; breaking for the clients
    /// of older versions when it is synced: they push and pull it under its old name).
    RenameTable,
    /// A new nullable column (safe).
    AddNullableColumn,
    /// A new NOT NULL column with a default (safe).
    AddColumnWithDefault,
    /// A new NOT NULL column without a default (needs a backfill or a default).
    AddRequiredColumn,
    /// A column removed (breaking).
    DropColumn,
    /// A column renamed with `renamed_from` (migrations keep its values; breaking for the
    /// clients of older versions when its table is synced: they push and pull the old name).
    RenameColumn,
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
    /// A table now takes hard deletes from clients, `deletes = "hard"` (safe).
    AddHardDeletes,
    /// A table no longer takes hard deletes from clients (breaking: old clients send them).
    DropHardDeletes,
    /// A new index (safe).
    AddIndex,
    /// An index removed (safe).
    DropIndex,
    /// A new unique constraint or unique index, or a live-only one extended to soft-deleted
    /// rows (existing rows may hold duplicates).
    AddUnique,
    /// A unique constraint or unique index removed, or made live-only (safe).
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
    pub const ALL: [Rule; 32] = [
        Rule::AddTable,
        Rule::DropTable,
        Rule::RenameTable,
        Rule::AddNullableColumn,
        Rule::AddColumnWithDefault,
        Rule::AddRequiredColumn,
        Rule::DropColumn,
        Rule::RenameColumn,
        Rule::ChangeColumnType,
        Rule::ChangeColumnStorage,
        Rule::ChangeDefault,
        Rule::NullableToNotNull,
        Rule::NotNullToNullable,
        Rule::AddEnumValue,
        Rule::RemoveEnumValue,
        Rule::ChangePrimaryKey,
        Rule::ChangeSyncScope,
        Rule::AddHardDeletes,
        Rule::DropHardDeletes,
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
            Rule::RenameTable => "rename_table",
            Rule::AddNullableColumn => "add_nullable_column",
            Rule::AddColumnWithDefault => "add_column_with_default",
            Rule::AddRequiredColumn => "add_required_column",
            Rule::DropColumn => "drop_column",
            Rule::RenameColumn => "rename_column",
            Rule::ChangeColumnType => "change_column_type",
            Rule::ChangeColumnStorage => "change_column_storage",
            Rule::ChangeDefault => "change_default",
            Rule::NullableToNotNull => "nullable_to_not_null",
            Rule::NotNullToNullable => "not_null_to_nullable",
            Rule::AddEnumValue => "add_enum_value",
            Rule::RemoveEnumValue => "remove_enum_value",
            Rule::ChangePrimaryKey => "change_primary_key",
            Rule::ChangeSyncScope => "change_sync_scope",
            Rule::AddHardDeletes => "add_hard_deletes",
            Rule::DropHardDeletes => "drop_hard_deletes",
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
            | Rule::RenameColumn
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
}
