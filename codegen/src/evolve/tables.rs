//! Table-level changes: tables added or dropped (in one database or both), primary keys, sync
//! scopes, and the constraints and indexes that are matched by name.

use super::{About, Findings, Place, Rule, columns};
use crate::ir::{Deletes, ForeignKey, Index, Schema, SyncColumns, Table};

pub(super) fn compare(old: &Schema, new: &Schema, findings: &mut Findings) {
    for table in &new.tables {
        match old.table(&table.name) {
            Some(before) => compare_table(before, table, findings),
            None => {
                let about = about(table, table);
                let scope = if table.is_synced() {
                    format!(", synced as `{}`", table.scope.as_toml())
                } else {
                    String::new()
                };
                let message = format!("table `{}` is added{scope}", table.name);
                findings.push(Rule::AddTable, about, Place::New(table.span.clone()), message);
            }
        }
    }
    for table in old.tables.iter().filter(|t| new.table(&t.name).is_none()) {
        let place = Place::Removed { old: table.span.clone(), anchor: None };
        let message = format!("table `{}` is dropped", table.name);
        findings.push(Rule::DropTable, about(table, table), place, message);
    }
}

/// A table's subject; it counts as synced when either version syncs it.
fn about<'a>(old: &'a Table, new: &Table) -> About<'a> {
    About { table: Some(&old.name), column: None, synced: old.is_synced() || new.is_synced() }
}

fn compare_table(old: &Table, new: &Table, findings: &mut Findings) {
    let at = || Place::New(new.span.clone());
    let name = &new.name;
    for (db, before, after) in [
        ("SQLite", old.targets.sqlite, new.targets.sqlite),
        ("Postgres", old.targets.postgres, new.targets.postgres),
    ] {
        let (rule, message) = match (before, after) {
            (true, false) => (Rule::DropTable, format!("table `{name}` is dropped from {db}")),
            (false, true) => (Rule::AddTable, format!("table `{name}` is added to {db}")),
            _ => continue,
        };
        findings.push(rule, about(old, new), at(), message);
    }
    columns::compare(old, new, findings);
    if old.primary_key.columns != new.primary_key.columns {
        let message = format!(
            "the primary key of `{name}` changes from ({}) to ({})",
            old.primary_key.columns.join(", "),
            new.primary_key.columns.join(", ")
        );
        findings.push(Rule::ChangePrimaryKey, about(old, new), at(), message);
    }
    if old.scope != new.scope {
        let message = format!(
            "the sync scope of `{name}` changes from `{}` to `{}`",
            old.scope.as_toml(),
            new.scope.as_toml()
        );
        findings.push(Rule::ChangeSyncScope, about(old, new), at(), message);
    } else {
        for (role, before, after) in sync_roles(&old.sync, &new.sync) {
            if before != after {
                let message = format!(
                    "the `{role}` column of `{name}` changes from {} to {}",
                    shown(before),
                    shown(after)
                );
                findings.push(Rule::ChangeSyncScope, about(old, new), at(), message);
            }
        }
    }
    let hard = |t: &Table| t.deletes == Deletes::Hard;
    if hard(old) != hard(new) {
        let (rule, what) = if hard(new) {
            (Rule::AddHardDeletes, "now removes the rows clients delete")
        } else {
            (Rule::DropHardDeletes, "no longer takes the deletes its clients send")
        };
        findings.push(rule, about(old, new), at(), format!("table `{name}` {what}"));
    }
    indexes(old, new, findings);
    constraints(old, new, findings);
}

fn sync_roles<'a>(
    old: &'a SyncColumns,
    new: &'a SyncColumns,
) -> [(&'static str, &'a Option<String>, &'a Option<String>); 5] {
    [
        ("owner", &old.owner, &new.owner),
        ("modified", &old.modified, &new.modified),
        ("deleted", &old.deleted, &new.deleted),
        ("version", &old.version, &new.version),
        ("device", &old.device, &new.device),
    ]
}

fn shown(column: &Option<String>) -> String {
    column.as_ref().map_or_else(|| "none".to_owned(), |c| format!("`{c}`"))
}

/// Indexes are matched by name; a changed definition is the old index dropped and the new one
/// added. A unique index is a unique constraint for the data, so it follows those rules.
fn indexes(old: &Table, new: &Table, findings: &mut Findings) {
    let rules = |index: &Index| {
        if index.unique {
            (Rule::AddUnique, Rule::DropUnique)
        } else {
            (Rule::AddIndex, Rule::DropIndex)
        }
    };
    let same = |a: &Index, b: &Index| {
        a.columns == b.columns && a.unique == b.unique && a.predicate == b.predicate
    };
    let kind = |index: &Index| if index.unique { "unique index" } else { "index" };
    for index in &new.indexes {
        let before = old.indexes.iter().find(|i| i.name == index.name);
        if before.is_some_and(|b| same(b, index)) {
            continue;
        }
        if let Some(before) = before {
            let place =
                Place::Removed { old: before.span.clone(), anchor: Some(index.span.clone()) };
            let message = format!(
                "{} `{}` of `{}` is redefined: the old one is dropped",
                kind(before),
                before.name,
                new.name
            );
            findings.push(rules(before).1, about(old, new), place, message);
        }
        let message = format!(
            "{} `{}` on `{}` ({}) is added",
            kind(index),
            index.name,
            new.name,
            index.columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
        );
        findings.push(rules(index).0, about(old, new), Place::New(index.span.clone()), message);
    }
    for index in old.indexes.iter().filter(|i| !new.indexes.iter().any(|n| n.name == i.name)) {
        let place = Place::Removed { old: index.span.clone(), anchor: Some(new.span.clone()) };
        let message = format!("{} `{}` of `{}` is dropped", kind(index), index.name, new.name);
        findings.push(rules(index).1, about(old, new), place, message);
    }
}

/// Unique constraints, checks and foreign keys, matched by name.
fn constraints(old: &Table, new: &Table, findings: &mut Findings) {
    let table = &new.name;
    let removed = |span: &crate::ir::Span| Place::Removed {
        old: span.clone(),
        anchor: Some(new.span.clone()),
    };
    for unique in &new.uniques {
        let before = old.uniques.iter().find(|u| u.name == unique.name);
        let place = Place::New(unique.span.clone());
        let (rule, what) = match before {
            Some(b) if b.columns == unique.columns && b.live_only == unique.live_only => continue,
            // Among live rows only, the key holds for fewer rows: whatever the old key let in,
            // the new one does too.
            Some(b) if b.columns == unique.columns && unique.live_only => {
                (Rule::DropUnique, "made live-only: soft-deleted rows no longer count")
            }
            // Soft-deleted rows may already share a value with a live row.
            Some(b) if b.columns == unique.columns => {
                (Rule::AddUnique, "extended to soft-deleted rows, which may hold duplicates")
            }
            Some(_) => (Rule::AddUnique, "redefined"),
            None if unique.live_only => (Rule::AddUnique, "added, among live rows"),
            None => (Rule::AddUnique, "added"),
        };
        let message = format!(
            "unique constraint `{}` on `{table}` ({}) is {what}",
            unique.name,
            unique.columns.join(", "),
        );
        findings.push(rule, about(old, new), place, message);
    }
    for unique in old.uniques.iter().filter(|u| !new.uniques.iter().any(|n| n.name == u.name)) {
        let message = format!("unique constraint `{}` of `{table}` is dropped", unique.name);
        findings.push(Rule::DropUnique, about(old, new), removed(&unique.span), message);
    }
    for check in &new.checks {
        let before = old.checks.iter().find(|c| c.name == check.name);
        if before.is_some_and(|b| b.expr == check.expr) {
            continue;
        }
        let message = format!(
            "check `{}` on `{table}` ({}) is {}",
            check.name,
            check.expr,
            if before.is_some() { "changed" } else { "added" }
        );
        findings.push(Rule::AddCheck, about(old, new), Place::New(check.span.clone()), message);
    }
    for check in old.checks.iter().filter(|c| !new.checks.iter().any(|n| n.name == c.name)) {
        let message = format!("check `{}` of `{table}` is dropped", check.name);
        findings.push(Rule::DropCheck, about(old, new), removed(&check.span), message);
    }
    for fk in &new.foreign_keys {
        let before = old.foreign_keys.iter().find(|f| f.name == fk.name);
        let (rule, what) = match before {
            None => (Rule::AddForeignKey, "added"),
            Some(b) if !same_reference(b, fk) => (Rule::AddForeignKey, "redefined"),
            Some(b) if b.on_delete != fk.on_delete || b.on_update != fk.on_update => {
                (Rule::ChangeForeignKeyAction, "given other ON DELETE or ON UPDATE actions")
            }
            Some(_) => continue,
        };
        let message = format!(
            "foreign key `{}` of `{table}` ({}) -> {}({}) is {what}",
            fk.name,
            fk.columns.join(", "),
            fk.ref_table,
            fk.ref_columns.join(", ")
        );
        findings.push(rule, about(old, new), Place::New(fk.span.clone()), message);
    }
    for fk in old.foreign_keys.iter().filter(|f| !new.foreign_keys.iter().any(|n| n.name == f.name))
    {
        let message = format!("foreign key `{}` of `{table}` is dropped", fk.name);
        findings.push(Rule::DropForeignKey, about(old, new), removed(&fk.span), message);
    }
}

fn same_reference(a: &ForeignKey, b: &ForeignKey) -> bool {
    a.columns == b.columns && a.ref_table == b.ref_table && a.ref_columns == b.ref_columns
}
