//! Renames between two versions of a schema (`renamed_from` on tables and columns): which ones
//! apply, and the old version with them carried out, so that the breaking-change gate and the
//! migration planner compare like with like and see only what else changed.
//!
//! A `renamed_from` applies when the old version has the old name and not the new one; otherwise
//! it is history (a rename shipped earlier) and says nothing. Carrying a rename out renames the
//! table or column everywhere the old version names it (keys, constraints, indexes, sync columns,
//! references from other tables), and gives a derived constraint or index name
//! (`<table>_<columns>_key` and the others, `ir::derived`) the name it derives to under the new
//! names, when the new version has that name: the database object is renamed with it. Check
//! expressions and index predicates are SQL text and stay as written; a difference there is a
//! change like any other.

use crate::ir::{Schema, SyncScope, Table, derived};

/// A table renamed from `from` to `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRename {
    pub from: String,
    pub to: String,
}

/// A column of `table` (its new name) renamed from `from` to `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnRename {
    pub table: String,
    pub from: String,
    pub to: String,
}

/// What kind of database object a derived name belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object {
    /// A table constraint: primary key, unique key, foreign key, a column's CHECK.
    Constraint,
    /// An index, or a live-only unique key (a partial unique index).
    Index,
}

/// A derived constraint or index name of `table` (its new name) that follows a rename.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameChange {
    pub table: String,
    pub object: Object,
    pub from: String,
    pub to: String,
}

/// The renames from one version to the next, and the old version with them carried out.
#[derive(Debug, Clone)]
pub struct Renamed {
    /// The old version under the new names.
    pub old: Schema,
    pub tables: Vec<TableRename>,
    pub columns: Vec<ColumnRename>,
    pub names: Vec<NameChange>,
}

impl Renamed {
    /// Whether any rename applies.
    pub fn any(&self) -> bool {
        !self.tables.is_empty() || !self.columns.is_empty()
    }

    /// The old name of table `to` (its own name when it was not renamed).
    pub fn old_table<'a>(&'a self, to: &'a str) -> &'a str {
        self.tables.iter().find(|r| r.to == to).map_or(to, |r| r.from.as_str())
    }

    /// The new name of table `from`.
    fn new_table<'a>(&'a self, from: &'a str) -> &'a str {
        self.tables.iter().find(|r| r.from == from).map_or(from, |r| r.to.as_str())
    }

    /// The new name of column `from` of table `table` (its new name).
    fn new_column<'a>(&'a self, table: &str, from: &'a str) -> &'a str {
        let found = self.columns.iter().find(|r| r.table == table && r.from == from);
        found.map_or(from, |r| r.to.as_str())
    }
}

/// The renames from `old` to `new` that apply, and `old` with them carried out.
pub fn renamed(old: &Schema, new: &Schema) -> Renamed {
    let mut renamed =
        Renamed { old: old.clone(), tables: Vec::new(), columns: Vec::new(), names: Vec::new() };
    for table in &new.tables {
        if let Some(from) = &table.renamed_from
            && old.table(from).is_some()
            && old.table(&table.name).is_none()
        {
            renamed.tables.push(TableRename { from: from.clone(), to: table.name.clone() });
        }
    }
    for table in &new.tables {
        let Some(was) = old.table(renamed.old_table(&table.name)) else { continue };
        for column in &table.columns {
            if let Some(from) = &column.renamed_from
                && was.column(from).is_some()
                && was.column(&column.name).is_none()
            {
                let (from, to) = (from.clone(), column.name.clone());
                renamed.columns.push(ColumnRename { table: table.name.clone(), from, to });
            }
        }
    }
    if renamed.any() {
        let tables = std::mem::take(&mut renamed.old.tables);
        let mut names = Vec::new();
        renamed.old.tables = tables
            .into_iter()
            .map(|was| {
                let mut t = carry_out(&renamed, was.clone());
                if let Some(now) = new.table(&t.name) {
                    names.extend(derive_again(&was, &mut t, now));
                }
                t
            })
            .collect();
        renamed.names = names;
    }
    renamed
}

/// Rename the table and every name it has of a renamed table or column.
fn carry_out(r: &Renamed, mut t: Table) -> Table {
    t.name = r.new_table(&t.name).to_owned();
    let own = t.name.clone();
    let column = |name: &mut String| *name = r.new_column(&own, name).to_owned();
    t.columns.iter_mut().for_each(|c| column(&mut c.name));
    t.primary_key.columns.iter_mut().for_each(column);
    t.uniques.iter_mut().flat_map(|u| u.columns.iter_mut()).for_each(column);
    t.indexes.iter_mut().for_each(|i| i.columns.iter_mut().for_each(|c| column(&mut c.name)));
    let sync = &mut t.sync;
    [&mut sync.owner, &mut sync.modified, &mut sync.deleted, &mut sync.version, &mut sync.device]
        .into_iter()
        .flatten()
        .for_each(column);
    for fk in &mut t.foreign_keys {
        fk.columns.iter_mut().for_each(column);
        fk.ref_table = r.new_table(&fk.ref_table).to_owned();
        let parent = fk.ref_table.clone();
        fk.ref_columns.iter_mut().for_each(|c| *c = r.new_column(&parent, c).to_owned());
    }
    if let SyncScope::Via { column: via, parent_table } = &mut t.scope {
        column(via);
        *parent_table = r.new_table(parent_table).to_owned();
    }
    t
}

/// Give each derived name of `t` (table `was` with the renames carried out) the name it derives
/// to under the new names, where `now` (the table in the new version) has that name; the changes
/// made. `carry_out` keeps every list in its order, so the same position is the same object.
fn derive_again(was: &Table, t: &mut Table, now: &Table) -> Vec<NameChange> {
    let mut changes = Vec::new();
    let table = t.name.clone();
    let mut follow =
        |object: Object, name: &mut String, before: String, after: String, has: bool| {
            if *name == before && before != after && has {
                changes.push(NameChange {
                    table: table.clone(),
                    object,
                    from: before,
                    to: after.clone(),
                });
                *name = after;
            }
        };
    let (old, new) = (was.name.as_str(), t.name.as_str());

    let after = derived::primary_key(new);
    let has = now.primary_key.name == after;
    follow(Object::Constraint, &mut t.primary_key.name, derived::primary_key(old), after, has);
    for (u, before) in t.uniques.iter_mut().zip(&was.uniques) {
        let after = derived::unique(new, &u.columns);
        let has = now.uniques.iter().any(|n| n.name == after);
        let object = if before.live_only { Object::Index } else { Object::Constraint };
        follow(object, &mut u.name, derived::unique(old, &before.columns), after, has);
    }
    for (fk, before) in t.foreign_keys.iter_mut().zip(&was.foreign_keys) {
        let after = derived::foreign_key(new, &fk.columns);
        let has = now.foreign_keys.iter().any(|n| n.name == after);
        let before = derived::foreign_key(old, &before.columns);
        follow(Object::Constraint, &mut fk.name, before, after, has);
    }
    let plain = |i: &crate::ir::Index| -> Vec<String> {
        i.columns.iter().map(|c| c.name.clone()).collect()
    };
    for (index, before) in t.indexes.iter_mut().zip(&was.indexes) {
        let after = derived::index(new, &plain(index));
        let has = now.indexes.iter().any(|n| n.name == after);
        follow(Object::Index, &mut index.name, derived::index(old, &plain(before)), after, has);
    }
    for (column, before) in t.columns.iter_mut().zip(&was.columns) {
        let after = derived::check(new, &column.name);
        let has = now.columns.iter().any(|n| n.check_name == after);
        let before = derived::check(old, &before.name);
        follow(Object::Constraint, &mut column.check_name, before, after, has);
    }
    changes
}
