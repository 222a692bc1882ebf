//! How the breaking-change gate judges each rule (the ids live in `ir::Rule`): its class,
//! whether clients see it, and how to make a breaking change in expand/contract steps instead.

use crate::ir::Rule;

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

/// How the gate judges each rule.
impl Rule {
    /// The class of a change under this rule. Four rules only matter to clients that sync the
    /// table (their generated types go stale, or name what is no longer there); on a table no
    /// client syncs they are safe.
    pub fn class(self, synced: bool) -> Class {
        match self {
            Rule::AddTable
            | Rule::AddNullableColumn
            | Rule::AddColumnWithDefault
            | Rule::ChangeDefault
            | Rule::AddHardDeletes
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
            Rule::NotNullToNullable
            | Rule::AddEnumValue
            | Rule::RenameTable
            | Rule::RenameColumn
                if !synced =>
            {
                Class::Safe
            }
            Rule::DropTable
            | Rule::RenameTable
            | Rule::RenameColumn
            | Rule::DropColumn
            | Rule::ChangeColumnType
            | Rule::NullableToNotNull
            | Rule::NotNullToNullable
            | Rule::AddEnumValue
            | Rule::RemoveEnumValue
            | Rule::ChangePrimaryKey
            | Rule::ChangeSyncScope
            | Rule::DropHardDeletes => Class::Breaking,
            Rule::VersionNotBumped | Rule::VersionDecreased | Rule::MinClientVersionTooLow => {
                Class::Mistake
            }
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
                 bump `[schema] version`, then drop it once no older client syncs. For a rename, \
                 say `renamed_from = \"<old name>\"` on the new table: migrations then keep \
                 the rows"
            }
            Rule::DropColumn => {
                "expand/contract: stop writing the column, ship clients that ignore it, bump \
                 `[schema] version`, then drop it once no older client syncs. For a rename, say \
                 `renamed_from = \"<old name>\"` on the new column: migrations then keep its \
                 values"
            }
            Rule::RenameTable | Rule::RenameColumn => {
                "the migration renames in place and keeps the data, but clients of older versions \
                 still push and pull the old name, which the server no longer knows: raise \
                 `[schema] min_client_version` to the new version, so that they get \
                 `upgrade_required` and keep their unsent writes, which the app's device migration \
                 renames too; or, to keep them syncing, add the new name beside the old one, write \
                 both, backfill, switch readers, then drop the old one"
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
            Rule::DropHardDeletes => {
                "expand/contract: ship clients that no longer delete the table's rows (their \
                 triggers then refuse it), bump `[schema] version` and raise \
                 `min_client_version`, then remove `deletes = \"hard\"`"
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
            | Rule::AddHardDeletes
            | Rule::AddIndex
            | Rule::DropIndex
            | Rule::DropUnique
            | Rule::DropCheck
            | Rule::DropForeignKey
            | Rule::ChangeForeignKeyAction => return None,
        })
    }
}
