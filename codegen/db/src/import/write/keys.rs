//! The table's keys, checks and indexes in its `schema.toml` section: what the format says of
//! them, and notes for what it cannot.

use super::*;

impl TableWriter<'_> {
    pub(super) fn uniques(&mut self) {
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
                self.columns[i].fields.push(("unique", true.into()));
                if key.name != format!("{name}_{}_key", key.columns[0]) {
                    self.columns[i].fields.push(("unique_name", key.name.as_str().into()));
                }
                continue;
            }
            let mut spec = InlineTable::new();
            spec.insert("columns", list(&key.columns));
            if key.name != format!("{name}_{}_key", key.columns.join("_")) {
                spec.insert("name", key.name.as_str().into());
            }
            specs.push(spec);
        }
        // A unique index over the live rows only is what `live_only = true` emits.
        for index in table.indexes.iter().filter(|i| self.live_only(i)) {
            let columns: Vec<String> = index.columns.iter().map(|(c, _)| c.clone()).collect();
            let mut spec = InlineTable::new();
            spec.insert("columns", list(&columns));
            if index.name != format!("{name}_{}_key", columns.join("_")) {
                spec.insert("name", index.name.as_str().into());
            }
            spec.insert("live_only", true.into());
            specs.push(spec);
        }
        self.push_specs("unique", specs);
    }

    /// Whether `index` is a unique key among live rows: a plain unique btree over imported
    /// columns, in ascending order, whose predicate is that the table's soft-delete column is
    /// false (`live_only = true` emits `WHERE deleted = false`; `NOT deleted` and `deleted IS
    /// FALSE` say the same of a NOT NULL column, which the soft-delete column is).
    fn live_only(&self, index: &Index) -> bool {
        let (Some(deleted), Some(predicate)) = (self.deleted, &index.predicate) else {
            return false;
        };
        let names: Vec<String> = index.columns.iter().map(|(c, _)| c.clone()).collect();
        let plain = index.unique
            && index.plain
            && index.columns.iter().all(|(c, desc)| !c.is_empty() && !desc)
            && self.all_in(&names);
        let mut predicate = predicate.trim();
        while let Some(inner) = predicate.strip_prefix('(').and_then(|p| p.strip_suffix(')')) {
            predicate = inner.trim();
        }
        let column = [deleted.to_owned(), format!("\"{deleted}\"")];
        let is_column = |text: &str| column.iter().any(|c| c == text.trim());
        let falsy =
            predicate.strip_suffix("= false").or_else(|| predicate.strip_suffix("IS FALSE"));
        plain
            && (falsy.is_some_and(is_column)
                || predicate.strip_prefix("NOT ").is_some_and(is_column))
    }

    /// A check that lists a text column's values becomes its `values`; others are `checks`.
    pub(super) fn checks(&mut self) {
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
                    i.column.name == column
                        && i.ty.logical == LogicalType::Text
                        && i.ty.values.is_none()
                });
                if let Some(i) = i {
                    self.columns[i].ty.values = Some(values);
                    if check.name != format!("{name}_{column}_check") {
                        self.columns[i].fields.push(("check_name", check.name.as_str().into()));
                    }
                    continue;
                }
            }
            match map::check_expr(check) {
                Some(expr) => {
                    let mut spec = InlineTable::new();
                    spec.insert("name", check.name.as_str().into());
                    spec.insert("expr", portable::rewrite(&expr).into());
                    specs.push(spec);
                    named.push(&check.name);
                }
                None => {
                    let what = format!("check {} {}", check.name, check.definition);
                    self.leave_out(what, "cannot be read");
                }
            }
        }
        self.push_specs("checks", specs);
        // Postgres names a column's CHECK `<table>_<column>_check`, the name the format gives
        // the CHECK it generates for a column's type (in SQLite, for most types): that one is
        // renamed, so the database's check keeps its name.
        for check in named {
            let Some(i) = self.columns.iter().position(|i| {
                *check == format!("{name}_{}_check", i.column.name)
                    && (i.ty.values.is_some() || types::may_check(i.ty.logical))
                    && !i.fields.iter().any(|(k, _)| *k == "check_name")
            }) else {
                continue;
            };
            let renamed = format!("{name}_{}_type_check", self.columns[i].column.name);
            self.columns[i].fields.push(("check_name", renamed.into()));
        }
    }

    /// On its column (`references`) when it has one, in `foreign_keys` otherwise.
    pub(super) fn foreign_keys(&mut self) {
        let table = self.table;
        let name = &table.name;
        let mut specs = Vec::new();
        for fk in &table.foreign_keys {
            let what = || format!("foreign key {} {}", fk.name, fk.definition);
            if !self.all_in(&fk.columns) {
                self.leave_out(what(), "uses a column left out");
                continue;
            }
            if !fk.local {
                let kept = format!(
                    "{name}: foreign key {} references {}, outside the imported schema",
                    fk.name, fk.ref_table
                );
                let statement = format!(
                    "ALTER TABLE {} ADD CONSTRAINT {} {};",
                    quote_ident(name),
                    quote_ident(&fk.name),
                    fk.definition
                );
                self.outside.push((kept, statement));
                continue;
            }
            if let Some(unsupported) = &fk.unsupported {
                let message =
                    format!("foreign key {} is {unsupported}; imported without it", fk.name);
                self.note(None, message);
            }
            let actions: Vec<(&'static str, Value)> =
                [("on_delete", &fk.on_delete), ("on_update", &fk.on_update)]
                    .into_iter()
                    .filter_map(|(key, code)| Some((key, map::action(code)?.into())))
                    .collect();
            let single = match fk.columns.as_slice() {
                [only] => self.column_without(only, "references"),
                _ => None,
            };
            if let Some(i) = single {
                let reference = format!("{}.{}", fk.ref_table, fk.ref_columns[0]);
                self.columns[i].fields.push(("references", reference.into()));
                self.columns[i].fields.extend(actions);
                if fk.name != format!("{name}_{}_fkey", fk.columns[0]) {
                    self.columns[i].fields.push(("fk_name", fk.name.as_str().into()));
                }
                continue;
            }
            let reference = format!("{}({})", fk.ref_table, fk.ref_columns.join(", "));
            let mut spec = InlineTable::new();
            spec.insert("columns", list(&fk.columns));
            spec.insert("references", reference.into());
            if fk.name != format!("{name}_{}_fkey", fk.columns.join("_")) {
                spec.insert("name", fk.name.as_str().into());
            }
            for (key, action) in actions {
                spec.insert(key, action);
            }
            specs.push(spec);
        }
        self.push_specs("foreign_keys", specs);
    }

    pub(super) fn indexes(&mut self) {
        let table = self.table;
        let name = &table.name;
        let mut specs = Vec::new();
        for index in &table.indexes {
            if self.live_only(index) {
                continue; // a unique key, written with the others
            }
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
            let mut spec = InlineTable::new();
            spec.insert("columns", list(&cols));
            if index.name != format!("{name}_{}_idx", names.join("_")) {
                spec.insert("name", index.name.as_str().into());
            }
            if index.unique {
                spec.insert("unique", true.into());
            }
            if let Some(predicate) = &index.predicate {
                spec.insert("where", portable::rewrite(predicate).into());
            }
            specs.push(spec);
        }
        self.push_specs("indexes", specs);
    }

    /// `key = [{ ... }, ...]` when there are any, on one line; indexes, which are often
    /// several, one to a line.
    fn push_specs(&mut self, key: &'static str, specs: Vec<InlineTable>) {
        if specs.is_empty() {
            return;
        }
        let mut array: Array = specs.into_iter().collect();
        if key == "indexes" && array.len() > 1 {
            array.iter_mut().for_each(|spec| {
                spec.decor_mut().set_prefix("\n  ");
            });
            array.set_trailing_comma(true);
            array.set_trailing("\n");
        }
        self.lines.push((key, array.into()));
    }
}
