//! The verdict on one change that is not written, worded here from the schema's metadata so
//! that both stores answer alike (docs/sync.md): last write wins (`stale`, `clock_skew`), a
//! constraint the database refused it by (`constraint`, named as the generated DDL names it,
//! whether the database said the name as Postgres does or only the columns as SQLite does), a
//! value too large to index (`too_large`), or a row that is not the user's to write (`forbidden`).

use serde_json::Value;

use super::decide;
use super::validate::{Change, Op};
use crate::protocol::{ConstraintKind, RejectReason, Rejected, Row};
use crate::schema::{ForeignKeyMeta, KeyMeta, LogicalType, SchemaMeta, Scope, TableMeta};
use crate::store::{Refused, RefusedBy, Values};

/// The most bytes (of UTF-8 text, or of JSON as sent) a value of an indexed column may hold:
/// a Postgres btree entry holds at most about 2,700 bytes, and an index may hold more than one
/// column, so both stores refuse larger values up front, alike (docs/sync.md).
pub const INDEXED_BYTES: usize = 2_000;

/// Why a change is not written.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Verdict {
    reason: RejectReason,
    message: String,
    constraint: Option<String>,
    kind: Option<ConstraintKind>,
    column: Option<String>,
}

impl Verdict {
    /// A change that loses to the server's row, or is dated too far ahead.
    pub(super) fn last_write_wins(reason: RejectReason, table: &TableMeta) -> Self {
        Verdict {
            reason,
            message: decide::explain(reason, table),
            constraint: None,
            kind: None,
            column: None,
        }
    }

    /// The rejection of `change`, with the server's row at its key where there is one that the
    /// user may read (the engine passes no other).
    pub(super) fn rejected(self, change: &Change, server_row: Option<&Values>) -> Rejected {
        Rejected {
            table: change.table.name.to_owned(),
            key: change.key.clone(),
            reason: self.reason,
            message: self.message,
            constraint: self.constraint,
            kind: self.kind,
            column: self.column,
            server_row: server_row.cloned().map(Row::from_values),
        }
    }

    /// A change of a row the user may not write (any longer): one sentence for every such row of
    /// `table`, whoever holds it, so that it tells nothing of rows the user cannot read.
    pub(super) fn forbidden(table: &TableMeta) -> Self {
        let column = match table.scope {
            Scope::Via { column, .. } => Some(column),
            _ => table.sync.owner,
        };
        let whose = match column {
            Some(column) => format!(" (column `{column}` says whose a row is)"),
            None => String::new(),
        };
        Verdict {
            reason: RejectReason::Forbidden,
            message: format!(
                "this change of `{}` writes a row that is not yours to write: it belongs to \
                 another user or is public (public rows are read-only), though it may have been \
                 yours when this device wrote it{whose}",
                table.name
            ),
            constraint: None,
            kind: None,
            column: column.map(str::to_owned),
        }
    }

    /// A reference through `fk` to a row that does not exist or that the user may not read:
    /// the same words for both, so that neither tells anything of rows the user cannot read.
    pub(super) fn foreign_key(table: &TableMeta, fk: &ForeignKeyMeta) -> Self {
        Verdict {
            reason: RejectReason::Constraint,
            message: format!(
                "this change of `{}` refers through foreign key `{}` ({}) to a row of `{}` that \
                 does not exist or that you may not read",
                table.name,
                fk.name,
                fk.columns.join(", "),
                fk.ref_table
            ),
            constraint: Some(fk.name.to_owned()),
            kind: Some(ConstraintKind::ForeignKey),
            column: single(fk.columns),
        }
    }

    /// A value of an indexed column over [`INDEXED_BYTES`]: `bytes` in `column`, when known.
    fn too_large(table: &TableMeta, at: Option<(&str, usize)>) -> Self {
        let what = match at {
            Some((column, bytes)) => format!("puts {bytes} bytes in column `{column}`"),
            None => "holds a value".to_owned(),
        };
        Verdict {
            reason: RejectReason::TooLarge,
            message: format!(
                "this change of `{}` {what}, which is indexed: an indexed column holds at most \
                 {INDEXED_BYTES} bytes",
                table.name
            ),
            constraint: None,
            kind: None,
            column: at.map(|(column, _)| column.to_owned()),
        }
    }

    /// What the database refused `row` (the change's row as written) for, in the schema's names.
    pub(super) fn refused(
        schema: &SchemaMeta,
        table: &TableMeta,
        row: &Values,
        refused: &Refused,
    ) -> Self {
        let constraints = &table.constraints;
        let constraint = |kind, name: Option<&str>, columns: &[&str], what: String| Verdict {
            reason: RejectReason::Constraint,
            message: format!("this change of `{}` {what}", table.name),
            constraint: name.map(str::to_owned),
            kind: Some(kind),
            column: single(columns),
        };
        match refused.by {
            RefusedBy::Unique => {
                let primary = KeyMeta { name: constraints.primary_key, columns: table.primary_key };
                let key = constraints.unique.iter().chain([&primary]).find(|k| {
                    refused.constraint.as_deref() == Some(k.name)
                        || same_columns(k.columns, &refused.columns)
                });
                let what = match key {
                    Some(k) => format!(
                        "gives unique key `{}` ({}) values that another row already has",
                        k.name,
                        k.columns.join(", ")
                    ),
                    None => "gives a unique key values that another row already has".to_owned(),
                };
                let (name, columns) = match key {
                    Some(k) => (Some(k.name), k.columns),
                    None => (refused.constraint.as_deref(), &[][..]),
                };
                constraint(ConstraintKind::Unique, name, columns, what)
            }
            RefusedBy::ForeignKey => {
                match foreign_key_of(schema, table, row, refused.constraint.as_deref()) {
                    Some(fk) => Verdict::foreign_key(table, fk),
                    None => constraint(
                        ConstraintKind::ForeignKey,
                        None,
                        &[],
                        "refers to a row that does not exist or that you may not read".to_owned(),
                    ),
                }
            }
            RefusedBy::Check => {
                let name = refused.constraint.as_deref();
                let check = constraints.checks.iter().find(|c| Some(c.name) == name);
                let column = check.and_then(|c| c.column);
                let what = match (name, column) {
                    (Some(name), Some(column)) => {
                        format!("breaks check `{name}` on column `{column}`")
                    }
                    (Some(name), None) => format!("breaks check `{name}`"),
                    (None, _) => "breaks a check".to_owned(),
                };
                constraint(ConstraintKind::Check, name, column.as_slice(), what)
            }
            RefusedBy::NotNull => {
                let column = refused.columns.first().map(String::as_str);
                let what = match column {
                    Some(column) => format!("leaves column `{column}` null, which it may not be"),
                    None => "leaves a column null that may not be".to_owned(),
                };
                constraint(ConstraintKind::NotNull, None, column.as_slice(), what)
            }
            // Validation refuses large values first; the largest indexed value is the culprit.
            RefusedBy::IndexSize => Verdict::too_large(table, largest_indexed(table, row)),
        }
    }

    /// What the database refused the delete of the row with key `key` for: rows of another table
    /// still refer to it, or to a row its delete cascades to, through a foreign key that does not
    /// let it go (`ON DELETE RESTRICT` or `NO ACTION`), named on both stores (SQLite names none,
    /// so its store finds the key).
    pub(super) fn delete_refused(
        schema: &SchemaMeta,
        table: &TableMeta,
        key: &Values,
        refused: &Refused,
    ) -> Self {
        if refused.by != RefusedBy::ForeignKey {
            return Verdict::refused(schema, table, key, refused);
        }
        let name = refused.constraint.as_deref();
        let keys = || {
            schema
                .tables
                .iter()
                .flat_map(|t| t.constraints.foreign_keys.iter().map(move |fk| (t, fk)))
                .filter(|(_, fk)| Some(fk.name) == name)
        };
        // Names are unique per table only: one to the deleted table comes first.
        let referring = keys().find(|(_, fk)| fk.ref_table == table.name).or_else(|| keys().next());
        let what = match referring {
            Some((child, fk)) if fk.ref_table == table.name => format!(
                "that rows of `{}` still refer to through foreign key `{}` ({}), which does not \
                 let it go",
                child.name,
                fk.name,
                fk.columns.join(", ")
            ),
            Some((child, fk)) => format!(
                "whose delete cascades to rows of `{}` that rows of `{}` still refer to through \
                 foreign key `{}` ({}), which does not let them go",
                fk.ref_table,
                child.name,
                fk.name,
                fk.columns.join(", ")
            ),
            None => "that other rows still refer to through a foreign key, which does not let it \
                     go"
            .to_owned(),
        };
        Verdict {
            reason: RejectReason::Constraint,
            message: format!("this change of `{}` deletes a row {what}", table.name),
            constraint: referring.map(|(_, fk)| fk.name.to_owned()),
            kind: Some(ConstraintKind::ForeignKey),
            column: None,
        }
    }
}

/// The column of an indexed text or JSON value of `change` over [`INDEXED_BYTES`], if any.
pub(super) fn too_large(change: &Change) -> Option<Verdict> {
    let Op::Upsert(row) = &change.op else { return None };
    let table = change.table;
    largest_indexed(table, row)
        .filter(|(_, bytes)| *bytes > INDEXED_BYTES)
        .map(|at| Verdict::too_large(table, Some(at)))
}

/// The indexed text or JSON column of `row` with the largest value, and its size in bytes.
fn largest_indexed<'t>(table: &'t TableMeta, row: &Values) -> Option<(&'t str, usize)> {
    table
        .columns
        .iter()
        .filter(|c| matches!(c.ty, LogicalType::Text | LogicalType::Json))
        .filter(|c| table.constraints.indexes_column(table.primary_key, c.name))
        .filter_map(|c| {
            let bytes = match row.get(c.name)? {
                Value::Null => return None,
                Value::String(s) => s.len(),
                other => other.to_string().len(),
            };
            Some((c.name, bytes))
        })
        .max_by_key(|(_, bytes)| *bytes)
}

/// The foreign key of `table` that refused `row`: by name when the database said it (Postgres);
/// otherwise (SQLite names none) the first whose columns `row` fills, those the engine does not
/// check itself (see [`super::references`]) first.
fn foreign_key_of<'t>(
    schema: &SchemaMeta,
    table: &'t TableMeta,
    row: &Values,
    name: Option<&str>,
) -> Option<&'t ForeignKeyMeta> {
    let fks = table.constraints.foreign_keys;
    if let Some(name) = name {
        return fks.iter().find(|fk| fk.name == name);
    }
    let filled =
        |fk: &&ForeignKeyMeta| fk.columns.iter().all(|c| row.get(*c).is_some_and(|v| !v.is_null()));
    let checked = |fk: &ForeignKeyMeta| super::references::checked(schema, fk).is_some();
    fks.iter().filter(filled).find(|fk| !checked(fk)).or_else(|| fks.iter().find(filled))
}

fn same_columns(key: &[&str], columns: &[String]) -> bool {
    key.len() == columns.len() && key.iter().all(|k| columns.iter().any(|c| c == k))
}

/// The column of a constraint over exactly one.
fn single(columns: &[&str]) -> Option<String> {
    match columns {
        [column] => Some((*column).to_owned()),
        _ => None,
    }
}
