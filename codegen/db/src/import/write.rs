//! The imported schema as a `schema.toml` document, built as data and printed by `toml_edit`:
//! one inline table per column like the example schema, names written only where they differ
//! from the format's defaults, and every part the format cannot say left in place as a
//! `# not imported:` comment and reported as a note.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use codegen::types;
use sync_meta::schema::LogicalType;
use toml_edit::{Array, DocumentMut, InlineTable, Item, Key, Value, value};

use super::introspect::{Column, Index, Table};
use super::map::{self, Mapped, Type};
use super::portable;
use super::scope::Scope;
use crate::live::postgres::quote_ident;

mod keys;

/// Something of the database that `schema.toml` does not say exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub table: String,
    pub column: Option<String>,
    pub message: String,
}

/// The text, what it could not say, and where each table's section is in it.
#[derive(Debug, Clone)]
pub struct Written {
    pub text: String,
    /// The statements of [`OUTSIDE_SQL`], listed in the file's `[extra_sql]`: what refers to
    /// tables outside the imported schema (foreign keys to `auth.users`); empty when nothing does.
    pub outside_sql: String,
    /// What [`OUTSIDE_SQL`] keeps, one line each.
    pub kept: Vec<String>,
    pub notes: Vec<Note>,
    pub sections: Vec<(String, Range<usize>)>,
}

/// The `[extra_sql]` file, beside `schema.toml`, that keeps what refers to tables outside the
/// imported schema, which `schema.toml` cannot name.
pub const OUTSIDE_SQL: &str = "imported.postgres.sql";

/// Write the schema: `header` comment lines, `[schema]`, `[extra_sql]` when there is SQL outside
/// the format, then the tables in foreign key order.
pub fn write(
    header: &str,
    name: &str,
    tables: &[Table],
    scopes: &BTreeMap<String, Scope>,
    unsynced: &BTreeMap<String, String>,
    on_devices: &BTreeSet<String>,
) -> Written {
    let mut schema = toml_edit::Table::new();
    schema.decor_mut().set_prefix(comment_lines(header.lines()));
    schema.insert("name", value(name));
    schema.insert("version", value(1));
    // `[tables.<name>]` headers only, no `[tables]` of its own.
    let mut all = toml_edit::Table::new();
    all.set_implicit(true);
    let (mut notes, mut outside) = (Vec::new(), Vec::new());
    let ordered = order(tables);
    for table in &ordered {
        let devices = on_devices.contains(&table.name);
        let writer = TableWriter::new(table, &mut notes, &mut outside);
        let mut section = writer.write(scopes.get(&table.name), devices);
        if let Some(why) = unsynced.get(&table.name) {
            let comment = format!("not synced: {why}");
            section
                .decor_mut()
                .set_prefix(format!("\n{}", comment_lines([comment.as_str()].into_iter())));
        }
        all.insert(&table.name, Item::Table(section));
    }
    let mut document = DocumentMut::new();
    document.insert("schema", Item::Table(schema));
    let (kept, statements): (Vec<String>, Vec<String>) = outside.into_iter().unzip();
    if !statements.is_empty() {
        let mut extra = toml_edit::Table::new();
        extra.insert("postgres", value(list(&[OUTSIDE_SQL.to_owned()])));
        document.insert("extra_sql", Item::Table(extra));
    }
    document.insert("tables", Item::Table(all));
    let text = document.to_string();
    let sections = sections(&text, &ordered);
    let outside_sql = if statements.is_empty() {
        String::new()
    } else {
        format!(
            "-- Imported by `cargo xtask import`: what refers to tables outside the imported\n\
             -- schema, which schema.toml cannot name.\n{}\n",
            statements.join("\n")
        )
    };
    Written { text, outside_sql, kept, notes, sections }
}

/// `# <line>` for each line, each ending the line.
fn comment_lines<'a>(lines: impl Iterator<Item = &'a str>) -> String {
    lines.map(|line| format!("# {}\n", line.replace('\n', " "))).collect()
}

/// Where each table's section is in `text`: from its `[tables.<name>]` line to the next one's.
fn sections(text: &str, tables: &[&Table]) -> Vec<(String, Range<usize>)> {
    let mut starts = Vec::new();
    let mut from = 0;
    for table in tables {
        let header = format!("\n[tables.{}]\n", Key::new(table.name.as_str()).display_repr());
        let start = from + text[from..].find(&header).expect("every table has its header") + 1;
        starts.push(start);
        from = start;
    }
    let ends = starts.iter().skip(1).copied().chain([text.len()]);
    tables.iter().zip(starts.iter().zip(ends)).map(|(t, (&s, e))| (t.name.clone(), s..e)).collect()
}

/// Tables with every table they reference before them (self references aside), otherwise by
/// name; the tables of a reference cycle come last, by name.
fn order(tables: &[Table]) -> Vec<&Table> {
    let mut placed: BTreeSet<&str> = BTreeSet::new();
    let mut out = Vec::new();
    while out.len() < tables.len() {
        let ready = tables.iter().find(|t| {
            !placed.contains(t.name.as_str())
                && t.foreign_keys.iter().all(|fk| {
                    !fk.local
                        || fk.ref_table == t.name
                        || placed.contains(fk.ref_table.as_str())
                        || !tables.iter().any(|o| o.name == fk.ref_table)
                })
        });
        let next = ready.or_else(|| tables.iter().find(|t| !placed.contains(t.name.as_str())));
        let next = next.expect("a table is left while fewer are placed");
        placed.insert(&next.name);
        out.push(next);
    }
    out
}

/// A column that is imported: its logical type, and what its inline table says besides.
struct ImportedColumn<'a> {
    column: &'a Column,
    ty: Type,
    fields: Vec<(&'static str, Value)>,
}

/// One table's section, built part by part: the columns that are imported (with what each
/// says besides its type), the table's own keys, and what is left out.
struct TableWriter<'a> {
    table: &'a Table,
    notes: &'a mut Vec<Note>,
    /// What goes to [`OUTSIDE_SQL`]: what is kept, and its statement.
    outside: &'a mut Vec<(String, String)>,
    /// The soft-delete column of the table's sync scope, if it has one.
    deleted: Option<&'a str>,
    columns: Vec<ImportedColumn<'a>>,
    lines: Vec<(&'static str, Value)>,
    left_out: Vec<String>,
}

impl<'a> TableWriter<'a> {
    fn new(
        table: &'a Table,
        notes: &'a mut Vec<Note>,
        outside: &'a mut Vec<(String, String)>,
    ) -> Self {
        TableWriter {
            table,
            notes,
            outside,
            deleted: None,
            columns: Vec::new(),
            lines: Vec::new(),
            left_out: Vec::new(),
        }
    }

    fn note(&mut self, column: Option<&str>, message: String) {
        let (table, column) = (self.table.name.clone(), column.map(str::to_owned));
        self.notes.push(Note { table, column, message });
    }

    /// Leave a part out: a comment in the file and a note.
    fn leave_out(&mut self, what: String, why: &str) {
        self.note(None, format!("{what} {why}; left out"));
        self.left_out.push(what);
    }

    fn all_in(&self, cols: &[String]) -> bool {
        cols.iter().all(|c| self.columns.iter().any(|i| &i.column.name == c))
    }

    /// The imported column `name` that does not say `key` yet.
    fn column_without(&self, name: &str, key: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|i| i.column.name == name && !i.fields.iter().any(|(k, _)| *k == key))
    }

    /// The section; a table that is not `on_devices` exists only in Postgres.
    fn write(mut self, scope: Option<&'a Scope>, on_devices: bool) -> toml_edit::Table {
        let t = self.table;
        self.deleted = scope.and_then(|s| s.deleted.as_deref());
        let mut section = toml_edit::Table::new();
        if let Some(comment) = &t.comment {
            section.insert("comment", value(comment));
        }
        if let Some(scope) = scope {
            write_scope(&mut section, scope);
        }
        if !on_devices {
            section.insert("targets", value(list(&["postgres".to_owned()])));
        }
        self.map_columns();
        self.primary_key();
        self.uniques();
        self.checks();
        self.foreign_keys();
        self.indexes();
        for (name, definition) in &t.exclusions {
            self.leave_out(format!("constraint {name} {definition}"), "has no schema.toml form");
        }
        self.policies();
        for (key, line) in std::mem::take(&mut self.lines) {
            section.insert(key, Item::Value(line));
        }
        // What is left out ends the table's own keys, before the blank line and its columns.
        let mut columns = toml_edit::Table::new();
        let left_out = self.left_out.iter().map(|what| format!("not imported: {what}"));
        let comments: Vec<String> = left_out.collect();
        columns.decor_mut().set_prefix(comment_lines(comments.iter().map(String::as_str)) + "\n");
        for imported in std::mem::take(&mut self.columns) {
            let name = imported.column.name.as_str();
            columns.insert(name, value(self.column_spec(imported)));
        }
        section.insert("columns", Item::Table(columns));
        section
    }

    /// Row-level security is left out: `[postgres] rls` generates it from the sync scopes.
    /// Row-level security as the database has it, kept in [`OUTSIDE_SQL`]: `[postgres] rls`
    /// generates policies from the sync scopes instead, which the team may switch to.
    fn policies(&mut self) {
        let t = self.table;
        let table = quote_ident(&t.name);
        if t.rls {
            let statement = format!("ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;");
            self.outside.push((format!("{}: ENABLE ROW LEVEL SECURITY", t.name), statement));
        }
        if t.force_rls {
            let statement = format!("ALTER TABLE {table} FORCE ROW LEVEL SECURITY;");
            self.outside.push((format!("{}: FORCE ROW LEVEL SECURITY", t.name), statement));
        }
        for p in &t.policies {
            self.outside.push((format!("{}: {}", t.name, p.definition()), p.statement(&t.name)));
        }
    }

    fn map_columns(&mut self) {
        let table = self.table;
        for column in &table.columns {
            match map::column_type(column) {
                Mapped::Exact(ty) => {
                    self.columns.push(ImportedColumn { column, ty, fields: Vec::new() })
                }
                Mapped::Approximate(ty, note) => {
                    self.note(Some(&column.name), note);
                    self.columns.push(ImportedColumn { column, ty, fields: Vec::new() });
                }
                Mapped::Unmapped(reason) => {
                    self.note(Some(&column.name), format!("{reason}; left out"));
                    self.left_out.push(format!("column {} {}", column.name, column.ty));
                }
            }
        }
    }

    /// On its column when it has one, on the table otherwise.
    fn primary_key(&mut self) {
        let table = self.table;
        let name = &table.name;
        let Some(key) = &table.primary_key else {
            self.note(None, "has no primary key, which schema.toml requires".into());
            return;
        };
        if !self.all_in(&key.columns) {
            let what = format!("primary key {} ({})", key.name, key.columns.join(", "));
            return self.leave_out(what, "uses a column left out");
        }
        match key.columns.as_slice() {
            [only] => {
                let i = self.column_without(only, "primary_key").expect("imported above");
                self.columns[i].fields.push(("primary_key", true.into()));
            }
            cols => self.lines.push(("primary_key", list(cols))),
        }
        if key.name != format!("{name}_pkey") {
            self.lines.push(("primary_key_name", key.name.as_str().into()));
        }
    }

    /// `{ type = "...", ... }`, the column's parts in the order the example uses.
    fn column_spec(&mut self, imported: ImportedColumn<'_>) -> InlineTable {
        let ImportedColumn { column, ty, fields: parts } = imported;
        let mut fields: Vec<(&str, Value)> = vec![("type", ty.logical.as_str().into())];
        if let Some(pg) = ty.postgres_type {
            fields.push(("postgres_type", pg.as_str().into()));
        }
        let (key, parts): (Vec<_>, Vec<_>) =
            parts.into_iter().partition(|(k, _)| *k == "primary_key");
        if !column.not_null && key.is_empty() {
            fields.push(("nullable", true.into()));
        }
        fields.extend(key);
        if let Some(values) = &ty.values {
            fields.push(("values", list(values)));
        }
        if let Some(identity) = &column.identity {
            let kind = if identity == "a" { "ALWAYS" } else { "BY DEFAULT" };
            let message = format!("GENERATED {kind} AS IDENTITY; imported without it");
            self.note(Some(&column.name), message);
        }
        if let Some(expr) = &column.generated {
            let message = format!("generated as ({expr}); imported as a plain column");
            self.note(Some(&column.name), message);
        }
        if let Some(sql) = &column.default {
            match map::default(ty.logical.as_str(), sql) {
                Some(value) => fields.push(("default", value)),
                None => {
                    let message = format!("default {sql} has no schema.toml form; left out");
                    self.note(Some(&column.name), message);
                }
            }
        }
        fields.extend(parts);
        if let Some(comment) = &column.comment {
            fields.push(("comment", comment.into()));
        }
        fields.into_iter().collect()
    }
}

/// The table's sync keys: its scope and the columns the sync machinery uses.
fn write_scope(section: &mut toml_edit::Table, scope: &Scope) {
    section.insert("sync", value(&scope.sync));
    if let Some(mut key) = section.key_mut("sync") {
        key.leaf_decor_mut().set_prefix(comment_lines([scope.because.as_str()].into_iter()));
    }
    if let Some(owner) = &scope.owner {
        section.insert("owner", value(owner));
    }
    for (key, column) in [
        ("modified", &scope.modified),
        ("deleted", &scope.deleted),
        ("version", &scope.version),
        ("device", &scope.device),
    ] {
        if let Some(column) = column {
            section.insert(key, value(column));
        }
    }
}

fn list(items: &[String]) -> Value {
    Value::Array(items.iter().collect())
}

#[cfg(test)]
mod tests;
