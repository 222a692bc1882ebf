//! Rules that span tables: foreign keys, `via:` scopes, dependency order (name clashes are in
//! [`super::clashes`]).

use std::collections::HashMap;

use indexmap::IndexMap;
use toml::Spanned;

use crate::diag::Problem;
use crate::ir::{FkAction, ForeignKey, Span, SyncScope, Table, derived};
use crate::raw;

fn action(a: Option<raw::FkAction>) -> Option<FkAction> {
    a.map(|a| match a {
        raw::FkAction::Cascade => FkAction::Cascade,
        raw::FkAction::Restrict => FkAction::Restrict,
        raw::FkAction::SetNull => FkAction::SetNull,
        raw::FkAction::SetDefault => FkAction::SetDefault,
        raw::FkAction::NoAction => FkAction::NoAction,
    })
}

/// `table.col` or `table(col, ...)`.
fn parse_target(text: &str) -> Option<(String, Vec<String>)> {
    if let Some((table, rest)) = text.split_once('(') {
        let cols = rest.strip_suffix(')')?;
        let cols: Vec<String> = cols.split(',').map(|c| c.trim().to_owned()).collect();
        return (!cols.iter().any(String::is_empty)).then(|| (table.trim().to_owned(), cols));
    }
    let (table, col) = text.split_once('.')?;
    Some((table.to_owned(), vec![col.to_owned()]))
}

/// The foreign keys a table declares, on columns and in `foreign_keys`.
pub(crate) fn foreign_keys(
    table: &str,
    raw: &raw::Table,
    problems: &mut Vec<Problem>,
) -> Vec<ForeignKey> {
    let mut out = Vec::new();
    let mut bad = |span: Span, text: &str| {
        problems.push(
            Problem::new("schema::invalid_reference", span, format!("`{text}` is not a reference"))
                .help("write `table.column`, or `table(a, b)` for a composite key"),
        );
    };
    for (col, spec) in &raw.columns {
        let Some(written) = &spec.references else { continue };
        let (span, text, col) = (written.span(), written.get_ref(), col.get_ref());
        let Some((ref_table, ref_columns)) = parse_target(text) else {
            bad(span, text);
            continue;
        };
        out.push(ForeignKey {
            name: spec.fk_name.as_ref().map_or_else(
                || derived::foreign_key(table, std::slice::from_ref(col)),
                |n| n.get_ref().clone(),
            ),
            columns: vec![col.clone()],
            ref_table,
            ref_columns,
            on_delete: action(spec.on_delete),
            on_update: action(spec.on_update),
            span,
        });
    }
    for spanned in &raw.foreign_keys {
        let (span, spec) = (spanned.span(), spanned.get_ref());
        let Some((ref_table, ref_columns)) = parse_target(&spec.references) else {
            bad(span, &spec.references);
            continue;
        };
        out.push(ForeignKey {
            name: spec.name.clone().unwrap_or_else(|| derived::foreign_key(table, &spec.columns)),
            columns: spec.columns.clone(),
            ref_table,
            ref_columns,
            on_delete: action(spec.on_delete),
            on_update: action(spec.on_update),
            span,
        });
    }
    out
}

/// Checks across the validated `tables`; `raw` is what they were built from.
pub(crate) fn check_cross_table(
    tables: &[Table],
    raw: &IndexMap<Spanned<String>, Spanned<raw::Table>>,
    problems: &mut Vec<Problem>,
) {
    let by_name: HashMap<&str, &Table> = tables.iter().map(|t| (t.name.as_str(), t)).collect();
    for table in tables {
        for fk in &table.foreign_keys {
            check_foreign_key(table, fk, &by_name, problems);
        }
        let scope_span = raw[table.name.as_str()].get_ref().sync.as_ref().map(Spanned::span);
        if let (SyncScope::Via { column, .. }, Some(span)) = (&table.scope, scope_span) {
            check_via(table, column, span, &by_name, problems);
        }
    }
    super::clashes::check_case_collisions(
        "table",
        tables.iter().map(|t| (t.name.as_str(), t.span.clone())),
        problems,
    );
    super::clashes::check_type_names(tables, problems);
    super::clashes::check_constraint_names(tables, problems);
}

fn check_foreign_key(
    table: &Table,
    fk: &ForeignKey,
    by_name: &HashMap<&str, &Table>,
    problems: &mut Vec<Problem>,
) {
    let span = fk.span.clone();
    let Some(target) = by_name.get(fk.ref_table.as_str()) else {
        problems.push(
            Problem::new(
                "schema::dangling_reference",
                span,
                format!("`{}` references unknown table `{}`", table.name, fk.ref_table),
            )
            .label("no such table"),
        );
        return;
    };
    let missing_in = match (table.targets, target.targets) {
        (own, other) if own.sqlite && !other.sqlite => Some("SQLite"),
        (own, other) if own.postgres && !other.postgres => Some("Postgres"),
        _ => None,
    };
    if let Some(database) = missing_in {
        problems.push(
            Problem::new(
                "schema::reference_across_targets",
                span.clone(),
                format!(
                    "`{}` references `{}`, which does not exist in {database}",
                    table.name, target.name
                ),
            )
            .help(format!("limit `{}` with `targets` too, or drop this reference", table.name)),
        );
    }
    if fk.columns.len() != fk.ref_columns.len() {
        problems.push(Problem::new(
            "schema::invalid_reference",
            span,
            format!(
                "foreign key `{}` has {} columns but references {}",
                fk.name,
                fk.columns.len(),
                fk.ref_columns.len()
            ),
        ));
        return;
    }
    for (col, ref_col) in fk.columns.iter().zip(&fk.ref_columns) {
        let Some(referenced) = target.column(ref_col) else {
            problems.push(
                Problem::new(
                    "schema::dangling_reference",
                    span.clone(),
                    format!(
                        "`{}.{col}` references unknown column `{}.{ref_col}`",
                        table.name, target.name
                    ),
                )
                .label("no such column"),
            );
            continue;
        };
        let Some(own) = table.column(col) else { continue };
        // `storage` changes the Postgres type (integer for a boolean, text for json), and
        // Postgres cannot compare a boolean with an integer or jsonb with text in a key.
        if own.ty != referenced.ty || own.storage.stored_as != referenced.storage.stored_as {
            let shown = |c: &crate::ir::Column| match c.storage.stored_as {
                Some(stored) => format!("`{}` stored as `{}`", c.ty.as_str(), stored.as_str()),
                None => format!("`{}`", c.ty.as_str()),
            };
            problems.push(
                Problem::new(
                    "schema::reference_type_mismatch",
                    span.clone(),
                    format!(
                        "`{}.{col}` is {} but references `{}.{ref_col}` of type {}",
                        table.name,
                        shown(own),
                        target.name,
                        shown(referenced)
                    ),
                )
                .label("types differ")
                .help(if own.ty == referenced.ty {
                    "give both columns the same `storage`".to_owned()
                } else {
                    format!("make `{}.{col}` a `{}`", table.name, referenced.ty.as_str())
                }),
            );
        }
        if fk.on_delete == Some(FkAction::SetNull) && !own.nullable {
            problems.push(
                Problem::new(
                    "schema::set_null_on_not_null",
                    span.clone(),
                    format!("`on_delete = \"set null\"` on NOT NULL column `{}.{col}`", table.name),
                )
                .help("make the column nullable, or choose another action"),
            );
        }
    }
    // A live-only key is a partial unique index: it lets soft-deleted rows share a value, so
    // neither database lets a foreign key reference it.
    let live_only = target.uniques.iter().any(|u| u.live_only && u.columns == fk.ref_columns);
    let is_constraint = target.primary_key.columns == fk.ref_columns
        || target.uniques.iter().any(|u| !u.live_only && u.columns == fk.ref_columns);
    // Indexes are created after their table, so a table's foreign key to itself can only use a
    // unique constraint: Postgres checks the key when the table is created.
    let is_key = is_constraint
        || (fk.ref_table != table.name
            && target.indexes.iter().any(|i| {
                i.unique
                    && i.predicate.is_none()
                    && i.columns.iter().map(|c| &c.name).eq(fk.ref_columns.iter())
            }));
    if !is_key && fk.ref_columns.iter().all(|c| target.column(c).is_some()) {
        problems.push(
            Problem::new(
                "schema::reference_not_unique",
                span,
                format!(
                    "`{}({})` is neither the primary key nor unique",
                    target.name,
                    fk.ref_columns.join(", ")
                ),
            )
            .help(if live_only {
                "a `live_only` unique key leaves soft-deleted rows out, so it cannot be referenced; reference the primary key, or a unique key over all rows"
            } else if fk.ref_table == table.name {
                "a foreign key to its own table must reference the primary key or a `unique` constraint, not a unique index"
            } else {
                "a foreign key must reference a primary key or a unique constraint"
            }),
        );
    }
}

/// A `via:` scope (written at `span`) follows a foreign key to the parent's primary key, and the
/// parent has an owner.
fn check_via(
    table: &Table,
    column: &str,
    span: Span,
    by_name: &HashMap<&str, &Table>,
    problems: &mut Vec<Problem>,
) {
    let fk = table.foreign_keys.iter().find(|fk| fk.columns == [column]);
    let Some(fk) = fk else {
        problems.push(
            Problem::new(
                "schema::via_not_foreign_key",
                span,
                format!(
                    "`via:{column}` on table `{}` needs `{column}` to be a foreign key",
                    table.name
                ),
            )
            .help(format!("add `references = \"parent.id\"` to column `{column}`")),
        );
        return;
    };
    let Some(parent) = by_name.get(fk.ref_table.as_str()) else { return };
    // The runtime finds a row's parent by the parent's primary key; a reference to another
    // unique column would let it authorize against the wrong row.
    if fk.ref_columns != parent.primary_key.columns {
        problems.push(
            Problem::new(
                "schema::via_not_primary_key",
                span.clone(),
                format!(
                    "`via:{column}` on `{}` references `{}.{}`, which is not the primary key of `{}`",
                    table.name,
                    parent.name,
                    fk.ref_columns.join(", "),
                    parent.name
                ),
            )
            .help(format!(
                "make `{column}` reference `{}.{}`: ownership is followed through the parent's primary key",
                parent.name,
                parent.primary_key.columns.join(", ")
            )),
        );
    }
    if matches!(parent.scope, SyncScope::None | SyncScope::Public) {
        problems.push(
            Problem::new(
                "schema::via_parent_not_owned",
                span,
                format!(
                    "`via:{column}` on `{}` points at `{}`, whose scope `{}` has no owner",
                    table.name,
                    parent.name,
                    parent.scope.as_toml()
                ),
            )
            .help("the parent table must be synced with `owner`, `owner_or_public` or `via:`"),
        );
    }
}

/// Tables in foreign key order (declaration order among independent ones); a cycle between
/// different tables is an error because neither could be created first.
pub(crate) fn dependency_order(
    tables: Vec<Table>,
    problems: &mut Vec<Problem>,
) -> Option<Vec<Table>> {
    let mut remaining = tables;
    let mut ordered: Vec<Table> = Vec::with_capacity(remaining.len());
    while !remaining.is_empty() {
        let ready = remaining.iter().position(|t| {
            t.foreign_keys.iter().all(|fk| {
                fk.ref_table == t.name
                    || ordered.iter().any(|o| o.name == fk.ref_table)
                    || !remaining.iter().any(|r| r.name == fk.ref_table)
            })
        });
        match ready {
            Some(i) => ordered.push(remaining.remove(i)),
            None => {
                let names: Vec<&str> = remaining.iter().map(|t| t.name.as_str()).collect();
                problems.push(
                    Problem::new(
                        "schema::reference_cycle",
                        remaining[0].span.clone(),
                        format!("foreign keys form a cycle among tables {}", names.join(", ")),
                    )
                    .help("break the cycle: one of these references must go (or move to a later migration)"),
                );
                return None;
            }
        }
    }
    Some(ordered)
}
