//! The imported schema as `schema.toml` text: one inline table per column like the example
//! schema, names written only where they differ from the format's defaults, and every part the
//! format cannot say left in place as a `# not imported:` comment and reported as a note.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::ops::Range;

use super::introspect::{Column, Table};
use super::map::{self, Mapped, Type, toml_key, toml_string};
use super::portable;
use super::scope::Scope;

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
    pub notes: Vec<Note>,
    pub sections: Vec<(String, Range<usize>)>,
}

/// Write the schema: `header` comment lines, `[schema]`, then the tables in foreign key order.
pub fn write(
    header: &str,
    name: &str,
    tables: &[Table],
    scopes: &BTreeMap<String, Scope>,
    on_devices: &BTreeSet<String>,
) -> Written {
    let mut out = String::new();
    for line in header.lines() {
        let _ = writeln!(out, "# {line}");
    }
    let _ = writeln!(out, "[schema]\nname = {}\nversion = 1", toml_string(name));
    let mut notes = Vec::new();
    let mut sections = Vec::new();
    for table in order(tables) {
        out.push('\n');
        let start = out.len();
        let devices = on_devices.contains(&table.name);
        TableWriter::new(table, &mut notes, &mut out).write(scopes.get(&table.name), devices);
        sections.push((table.name.clone(), start..out.len()));
    }
    Written { text: out, notes, sections }
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
    fields: Vec<(&'static str, String)>,
}

/// One table's section, built part by part: the columns that are imported (with what each
/// says besides its type), the table's own lines, and what is left out.
struct TableWriter<'a> {
    table: &'a Table,
    notes: &'a mut Vec<Note>,
    out: &'a mut String,
    columns: Vec<ImportedColumn<'a>>,
    lines: Vec<String>,
    left_out: Vec<String>,
}

impl<'a> TableWriter<'a> {
    fn new(table: &'a Table, notes: &'a mut Vec<Note>, out: &'a mut String) -> Self {
        TableWriter {
            table,
            notes,
            out,
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
    fn write(mut self, scope: Option<&Scope>, on_devices: bool) {
        let t = self.table;
        let _ = writeln!(self.out, "[tables.{}]", toml_key(&t.name));
        if let Some(comment) = &t.comment {
            let _ = writeln!(self.out, "comment = {}", toml_string(comment));
        }
        if let Some(scope) = scope {
            self.write_scope(scope);
        }
        if !on_devices {
            let _ = writeln!(self.out, "targets = [\"postgres\"]");
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
        for line in &self.lines {
            let _ = writeln!(self.out, "{line}");
        }
        for what in &self.left_out {
            let _ = writeln!(self.out, "# not imported: {}", what.replace('\n', " "));
        }
        let _ = writeln!(self.out, "\n[tables.{}.columns]", toml_key(&t.name));
        for imported in std::mem::take(&mut self.columns) {
            let line = self.column_line(imported);
            let _ = writeln!(self.out, "{line}");
        }
    }

    fn write_scope(&mut self, scope: &Scope) {
        let _ = writeln!(self.out, "sync = {}", toml_string(&scope.sync));
        if let Some(owner) = &scope.owner {
            let _ = writeln!(self.out, "owner = {}", toml_string(owner));
        }
        let _ = writeln!(self.out, "modified = {}", toml_string(&scope.modified));
        for (key, column) in
            [("deleted", &scope.deleted), ("version", &scope.version), ("device", &scope.device)]
        {
            if let Some(column) = column {
                let _ = writeln!(self.out, "{key} = {}", toml_string(column));
            }
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
                self.columns[i].fields.push(("primary_key", "true".into()));
            }
            cols => self.lines.push(format!("primary_key = {}", list(cols))),
        }
        if key.name != format!("{name}_pkey") {
            self.lines.push(format!("primary_key_name = {}", toml_string(&key.name)));
        }
    }

    fn uniques(&mut self) {
        let table = self.table;
        let name = &table.name;
        let mut specs = Vec::new();
        for key in &table.uniques {
            if !self.all_in(&key.columns) {
                let what = format!("unique {} ({})", key.name, key.columns.join(", "));
                self.leave_out(what, "uses a column left out");
                continue;
            }
            let single = match key.columns.as_slice() {
                [only] => self.column_without(only, "unique"),
                _ => None,
            };
            if let Some(i) = single {
                self.columns[i].fields.push(("unique", "true".into()));
                if key.name != format!("{name}_{}_key", key.columns[0]) {
                    self.columns[i].fields.push(("unique_name", toml_string(&key.name)));
                }
                continue;
            }
            let mut spec = format!("{{ columns = {}", list(&key.columns));
            if key.name != format!("{name}_{}_key", key.columns.join("_")) {
                let _ = write!(spec, ", name = {}", toml_string(&key.name));
            }
            specs.push(spec + " }");
        }
        if !specs.is_empty() {
            self.lines.push(format!("unique = [{}]", specs.join(", ")));
        }
    }

    /// A check that lists a text column's values becomes its `values`; others are `checks`.
    fn checks(&mut self) {
        let table = self.table;
        let name = &table.name;
        let mut specs = Vec::new();
        let mut named: Vec<&String> = Vec::new();
        for check in &table.checks {
            if !self.all_in(&check.columns) {
                let what = format!("check {} {}", check.name, check.definition);
                self.leave_out(what, "uses a column left out");
                continue;
            }
            if !check.validated {
                self.note(None, format!("check {} is NOT VALID; imported as valid", check.name));
            }
            if let Some((column, values)) = map::enum_values(check) {
                let i = self.columns.iter().position(|i| {
                    i.column.name == column && i.ty.logical == "text" && i.ty.values.is_none()
                });
                if let Some(i) = i {
                    self.columns[i].ty.values = Some(values);
                    if check.name != format!("{name}_{column}_check") {
                        self.columns[i].fields.push(("check_name", toml_string(&check.name)));
                    }
                    continue;
                }
            }
            match map::check_expr(check) {
                Some(expr) => {
                    specs.push(format!(
                        "{{ name = {}, expr = {} }}",
                        toml_string(&check.name),
                        toml_string(&portable::rewrite(&expr))
                    ));
                    named.push(&check.name);
                }
                None => {
                    let what = format!("check {} {}", check.name, check.definition);
                    self.leave_out(what, "cannot be read");
                }
            }
        }
        if !specs.is_empty() {
            self.lines.push(format!("checks = [{}]", specs.join(", ")));
        }
        // Postgres names a column's CHECK `<table>_<column>_check`, the name the format gives
        // the CHECK it generates for a column's type (in SQLite, for most types): that one is
        // renamed, so the database's check keeps its name.
        for check in named {
            let Some(i) = self.columns.iter().position(|i| {
                *check == format!("{name}_{}_check", i.column.name)
                    && (i.ty.values.is_some() || !matches!(i.ty.logical, "text" | "real"))
                    && !i.fields.iter().any(|(k, _)| *k == "check_name")
            }) else {
                continue;
            };
            let renamed = format!("{name}_{}_type_check", self.columns[i].column.name);
            self.columns[i].fields.push(("check_name", toml_string(&renamed)));
        }
    }

    /// On its column (`references`) when it has one, in `foreign_keys` otherwise.
    fn foreign_keys(&mut self) {
        let table = self.table;
        let name = &table.name;
        let mut specs = Vec::new();
        for fk in &table.foreign_keys {
            let what = || format!("foreign key {} {}", fk.name, fk.definition);
            if !fk.local {
                let why = format!("references {}, outside the imported schema", fk.ref_table);
                self.leave_out(what(), &why);
                continue;
            }
            if !self.all_in(&fk.columns) {
                self.leave_out(what(), "uses a column left out");
                continue;
            }
            if let Some(unsupported) = &fk.unsupported {
                let message =
                    format!("foreign key {} is {unsupported}; imported without it", fk.name);
                self.note(None, message);
            }
            let actions: Vec<(&'static str, String)> =
                [("on_delete", &fk.on_delete), ("on_update", &fk.on_update)]
                    .into_iter()
                    .filter_map(|(key, code)| Some((key, toml_string(map::action(code)?))))
                    .collect();
            let single = match fk.columns.as_slice() {
                [only] => self.column_without(only, "references"),
                _ => None,
            };
            if let Some(i) = single {
                let reference = format!("{}.{}", fk.ref_table, fk.ref_columns[0]);
                self.columns[i].fields.push(("references", toml_string(&reference)));
                self.columns[i].fields.extend(actions);
                if fk.name != format!("{name}_{}_fkey", fk.columns[0]) {
                    self.columns[i].fields.push(("fk_name", toml_string(&fk.name)));
                }
                continue;
            }
            let reference = format!("{}({})", fk.ref_table, fk.ref_columns.join(", "));
            let mut spec = format!(
                "{{ columns = {}, references = {}",
                list(&fk.columns),
                toml_string(&reference)
            );
            if fk.name != format!("{name}_{}_fkey", fk.columns.join("_")) {
                let _ = write!(spec, ", name = {}", toml_string(&fk.name));
            }
            for (key, value) in actions {
                let _ = write!(spec, ", {key} = {value}");
            }
            specs.push(spec + " }");
        }
        if !specs.is_empty() {
            self.lines.push(format!("foreign_keys = [{}]", specs.join(", ")));
        }
    }

    fn indexes(&mut self) {
        let table = self.table;
        let name = &table.name;
        let mut specs = Vec::new();
        for index in &table.indexes {
            let names: Vec<String> = index.columns.iter().map(|(c, _)| c.clone()).collect();
            if !index.plain || names.iter().any(String::is_empty) || !self.all_in(&names) {
                let why = "is not a btree over imported columns with default orderings";
                self.leave_out(format!("index {}", index.definition), why);
                continue;
            }
            let cols: Vec<String> = index
                .columns
                .iter()
                .map(|(c, desc)| if *desc { format!("{c} desc") } else { c.clone() })
                .collect();
            let mut spec = format!("{{ columns = {}", list(&cols));
            if index.name != format!("{name}_{}_idx", names.join("_")) {
                let _ = write!(spec, ", name = {}", toml_string(&index.name));
            }
            if index.unique {
                spec.push_str(", unique = true");
            }
            if let Some(predicate) = &index.predicate {
                let _ = write!(spec, ", where = {}", toml_string(&portable::rewrite(predicate)));
            }
            specs.push(spec + " }");
        }
        match specs.as_slice() {
            [] => {}
            [one] => self.lines.push(format!("indexes = [{one}]")),
            many => self.lines.push(format!("indexes = [\n  {},\n]", many.join(",\n  "))),
        }
    }

    /// `name = { type = "...", ... }`, the column's parts in the order the example uses.
    fn column_line(&mut self, imported: ImportedColumn<'_>) -> String {
        let ImportedColumn { column, ty, fields: parts } = imported;
        let mut fields = vec![("type", toml_string(ty.logical))];
        if let Some(pg) = ty.postgres_type {
            fields.push(("postgres_type", toml_string(pg)));
        }
        let (key, parts): (Vec<_>, Vec<_>) =
            parts.into_iter().partition(|(k, _)| *k == "primary_key");
        if !column.not_null && key.is_empty() {
            fields.push(("nullable", "true".into()));
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
            match map::default(ty.logical, sql) {
                Some(value) => fields.push(("default", value)),
                None => {
                    let message = format!("default {sql} has no schema.toml form; left out");
                    self.note(Some(&column.name), message);
                }
            }
        }
        fields.extend(parts);
        if let Some(comment) = &column.comment {
            fields.push(("comment", toml_string(comment)));
        }
        let body: Vec<String> = fields.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        format!("{} = {{ {} }}", toml_key(&column.name), body.join(", "))
    }
}

fn list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|i| toml_string(i)).collect();
    format!("[{}]", items.join(", "))
}
