//! A table's sync scope and the bookkeeping columns it needs (docs/format.md, "Sync scopes").

use toml::Spanned;

use crate::diag::Problem;
use crate::ir::{Column, Deletes, ForeignKey, LogicalType, SyncColumns, SyncScope};
use crate::raw::{self, ColumnSetting, DeletesSetting};

use super::written_at;

/// What a scope needs of one bookkeeping column.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Need {
    /// The column must exist unless the table says `false`.
    Required,
    /// Used when the table has it (a `public` table's clock, for example).
    IfPresent,
    /// Only when the table names it explicitly.
    Explicit,
}

struct Role {
    key: &'static str,
    types: &'static [LogicalType],
    purpose: &'static str,
}

const OWNER: Role = Role {
    key: "owner",
    types: &[LogicalType::Uuid, LogicalType::Text],
    purpose: "the owner (JWT subject)",
};
const MODIFIED: Role =
    Role { key: "modified", types: &[LogicalType::Timestamp], purpose: "the conflict clock" };
const DELETED: Role =
    Role { key: "deleted", types: &[LogicalType::Boolean], purpose: "the soft-delete flag" };
const VERSION: Role = Role {
    key: "version",
    types: &[LogicalType::Integer, LogicalType::Bigint],
    purpose: "the server's write counter",
};
const DEVICE: Role = Role {
    key: "device",
    types: &[LogicalType::Text, LogicalType::Uuid],
    purpose: "the writing client's id",
};

/// The scope and sync columns of the table `name`, defined by `spanned` (both keep where they are
/// written, to point problems at them).
pub(crate) fn scope_and_columns(
    name: &Spanned<String>,
    spanned: &Spanned<raw::Table>,
    defaults: &raw::SyncDefaults,
    columns: &[Column],
    foreign_keys: &[ForeignKey],
    problems: &mut Vec<Problem>,
) -> (SyncScope, SyncColumns) {
    let (table, raw) = (name.get_ref().as_str(), spanned.get_ref());
    let scope = parse_scope(table, raw.sync.as_ref(), foreign_keys, problems);
    let (owner, clock) = match &scope {
        SyncScope::None => return (scope, SyncColumns::default()),
        SyncScope::Owner | SyncScope::OwnerOrPublic => (Need::Required, Need::Required),
        SyncScope::Via { .. } => (Need::Explicit, Need::Required),
        SyncScope::Public => (Need::Explicit, Need::IfPresent),
    };
    let mut resolve = |role: &Role,
                       need: Need,
                       setting: &Option<Spanned<ColumnSetting>>,
                       default: &Option<String>| {
        resolve(name, raw, role, need, setting.as_ref(), default.as_deref(), columns, problems)
    };
    let sync = SyncColumns {
        owner: resolve(&OWNER, owner, &raw.owner, &defaults.owner),
        modified: resolve(&MODIFIED, clock, &raw.modified, &defaults.modified),
        deleted: resolve(&DELETED, clock, &raw.deleted, &defaults.deleted),
        version: resolve(&VERSION, clock, &raw.version, &defaults.version),
        device: resolve(&DEVICE, clock, &raw.device, &defaults.device),
    };
    let clock_unset =
        matches!(raw.modified.as_ref().map(Spanned::get_ref), Some(ColumnSetting::Off(false)))
            || (raw.modified.is_none() && defaults.modified.is_none());
    if scope != SyncScope::Public && clock_unset {
        problems.push(
            Problem::new(
                "schema::missing_sync_column",
                written_at(&raw.modified, spanned.span()),
                format!("table `{table}` is synced but has no conflict clock"),
            )
            .help(
                "clients write this table, so last-write-wins needs a `modified` timestamp column",
            ),
        );
    }
    if scope == SyncScope::OwnerOrPublic
        && let Some(col) = sync.owner.as_deref().and_then(|o| columns.iter().find(|c| c.name == o))
        && !col.nullable
    {
        problems.push(
            Problem::new(
                "schema::owner_not_nullable",
                col.span.clone(),
                format!(
                    "owner column `{table}.{}` of an `owner_or_public` table must be nullable",
                    col.name
                ),
            )
            .help("a NULL owner marks a public row; add `nullable = true`"),
        );
    }
    (scope, sync)
}

fn parse_scope(
    table: &str,
    written: Option<&Spanned<String>>,
    foreign_keys: &[ForeignKey],
    problems: &mut Vec<Problem>,
) -> SyncScope {
    let Some(written) = written else { return SyncScope::None };
    match written.get_ref().as_str() {
        "none" => SyncScope::None,
        "owner" => SyncScope::Owner,
        "owner_or_public" => SyncScope::OwnerOrPublic,
        "public" => SyncScope::Public,
        other => match other.strip_prefix("via:") {
            Some(column) if !column.is_empty() => {
                // The parent is the table the column's foreign key references; when there is
                // none, cross-table validation reports it and no IR is built.
                let parent_table = foreign_keys
                    .iter()
                    .find(|fk| fk.columns == [column])
                    .map(|fk| fk.ref_table.clone())
                    .unwrap_or_default();
                SyncScope::Via { column: column.to_owned(), parent_table }
            }
            _ => {
                problems.extend(unknown_scope(table, written));
                SyncScope::None
            }
        },
    }
}

/// The problem with a `sync` value that is no scope at all (a misspelling), if it is one. It
/// needs nothing but the value, so it is also reported for a file too broken to validate.
pub(crate) fn unknown_scope(table: &str, written: &Spanned<String>) -> Option<Problem> {
    let value = written.get_ref().as_str();
    let via_column = value.strip_prefix("via:").is_some_and(|column| !column.is_empty());
    if raw::FIXED_SCOPES.contains(&value) || via_column {
        return None;
    }
    Some(
        Problem::new(
            "schema::unknown_scope",
            written.span(),
            format!("unknown sync scope `{value}` on table `{table}`"),
        )
        .help("use owner, owner_or_public, public, via:<fk column> or none"),
    )
}

#[allow(clippy::too_many_arguments)]
fn resolve(
    table_name: &Spanned<String>,
    raw: &raw::Table,
    role: &Role,
    need: Need,
    setting: Option<&Spanned<ColumnSetting>>,
    default: Option<&str>,
    columns: &[Column],
    problems: &mut Vec<Problem>,
) -> Option<String> {
    let (table, key) = (table_name.get_ref().as_str(), role.key);
    let (name, explicit) = match setting.map(|s| (s.get_ref(), s.span())) {
        Some((ColumnSetting::Off(false), _)) => return None,
        Some((ColumnSetting::Off(true), span)) => {
            problems.push(
                Problem::new(
                    "schema::invalid_value",
                    span,
                    format!("`{key} = true` is not meaningful"),
                )
                .help(format!(
                    "name the {} column, or write `{key} = false` for none",
                    role.purpose
                )),
            );
            return None;
        }
        Some((ColumnSetting::Name(n), _)) => (n.as_str(), true),
        None if need == Need::Explicit => return None,
        None => (default?, false),
    };
    let Some(column) = columns.iter().find(|c| c.name == name) else {
        if need == Need::IfPresent && !explicit {
            return None;
        }
        // A column named by the table is missing where it is named; one taken from `[sync]`
        // is missing from the table.
        let span = setting.map_or_else(|| table_name.span(), Spanned::span);
        problems.push(
            Problem::new(
                "schema::missing_sync_column",
                span,
                format!("synced table `{table}` has no column `{name}` for {}", role.purpose),
            )
            .label("missing column")
            .help(format!(
                "add the column `{name}`, name another one with `{key} = \"...\"`, or write `{key} = false` on the table"
            )),
        );
        return None;
    };
    if !role.types.contains(&column.ty) {
        let expected: Vec<&str> = role.types.iter().map(|t| t.as_str()).collect();
        problems.push(
            Problem::new(
                "schema::sync_column_type",
                raw.columns[name].ty.span(),
                format!(
                    "column `{table}.{name}` is {} and must be of type {}",
                    role.purpose,
                    expected.join(" or ")
                ),
            )
            .label(format!("type `{}`", column.ty.as_str())),
        );
    }
    Some(name.to_owned())
}

/// What a client's delete of the table `name` does: a soft delete when the table has a
/// soft-delete column, a hard one when a writable table without one says `deletes = "hard"`,
/// none otherwise. `deletes` that cannot hold is a problem at its place.
pub(crate) fn deletes(
    name: &Spanned<String>,
    raw: &raw::Table,
    scope: &SyncScope,
    sync: &SyncColumns,
    problems: &mut Vec<Problem>,
) -> Deletes {
    let table = name.get_ref();
    let default = if sync.deleted.is_some() { Deletes::Soft } else { Deletes::Never };
    let Some(written) = &raw.deletes else { return default };
    let mut refuse = |code, message: String, help: &str| {
        problems.push(Problem::new(code, written.span(), message).help(help.to_owned()));
        default
    };
    match (written.get_ref(), scope, &sync.deleted) {
        (_, SyncScope::None | SyncScope::Public, _) => refuse(
            "schema::deletes_not_writable",
            format!("`deletes` on table `{table}`, which clients never write"),
            "clients delete rows of tables synced as `owner`, `owner_or_public` or `via:`; remove `deletes`",
        ),
        (DeletesSetting::Soft, _, Some(_)) => Deletes::Soft,
        (DeletesSetting::Soft, _, None) => refuse(
            "schema::soft_deletes_without_column",
            format!("`deletes = \"soft\"` on table `{table}`, which has no soft-delete column"),
            "name its soft-delete column with `deleted = \"...\"`, or write `deletes = \"hard\"` to remove deleted rows",
        ),
        (DeletesSetting::Hard, _, Some(column)) => refuse(
            "schema::hard_deletes_with_soft_delete_column",
            format!(
                "`deletes = \"hard\"` on table `{table}`, whose deletes set its soft-delete column `{column}`"
            ),
            "a table with a soft-delete column keeps deleted rows; remove `deletes`, or write `deleted = false` to remove them instead",
        ),
        (DeletesSetting::Hard, _, None) => Deletes::Hard,
    }
}
