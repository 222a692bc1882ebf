//! A database's schema as both databases' catalogs describe it, and every difference between
//! two of them: the one `schema.toml`'s DDL makes and the live one.
//!
//! Each side is read from a real catalog, so types and defaults are compared in the form the
//! database prints them (`timestamp(3) with time zone`, `'{}'::jsonb`), never as the generator
//! writes them. Column order and comments are not compared: neither changes what a query or
//! a sync sees.

use std::collections::BTreeMap;

/// Every table (by name) and the functions of the schema that are compared.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    pub tables: BTreeMap<String, Table>,
    /// Function signature (`_sync_stamp()`) -> its definition; Postgres's sync machinery only.
    pub functions: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// In the table's column order.
    pub columns: Vec<Column>,
    /// The primary key's columns; empty when there is none.
    pub primary_key: Vec<String>,
    /// The columns of each unique constraint (unique indexes are indexes).
    pub uniques: Vec<Vec<String>>,
    pub foreign_keys: Vec<ForeignKey>,
    /// Check (and exclusion) constraints: name -> definition. An unnamed one (SQLite) is keyed
    /// by its definition.
    pub checks: BTreeMap<String, String>,
    /// Indexes that back no constraint: name -> definition.
    pub indexes: BTreeMap<String, String>,
    /// Triggers that are compared (Postgres's sync machinery): name -> definition.
    pub triggers: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// The type as the catalog prints it.
    pub ty: String,
    pub not_null: bool,
    /// The default as the catalog prints it.
    pub default: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    pub columns: Vec<String>,
    pub ref_table: String,
    pub ref_columns: Vec<String>,
    /// `CASCADE`, `SET NULL`, `SET DEFAULT`, `RESTRICT` or `NO ACTION`.
    pub on_delete: String,
    pub on_update: String,
}

impl ForeignKey {
    /// `REFERENCES user_profile (id) ON DELETE CASCADE`, with ON UPDATE only when it is not
    /// the default.
    pub fn describe(&self) -> String {
        let mut out = format!(
            "REFERENCES {} ({}) ON DELETE {}",
            self.ref_table,
            self.ref_columns.join(", "),
            self.on_delete
        );
        if self.on_update != "NO ACTION" {
            out.push_str(&format!(" ON UPDATE {}", self.on_update));
        }
        out
    }
}

/// What a difference is about, on a table (or, for a function, on the schema).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Object {
    Table,
    Column(String),
    ColumnType(String),
    Nullability(String),
    Default(String),
    PrimaryKey,
    Unique(Vec<String>),
    ForeignKey(Vec<String>),
    Check(String),
    Index(String),
    Trigger(String),
    Function(String),
}

/// How the live database differs from what `schema.toml` makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// `schema.toml` makes it; the database does not have it. The expected definition.
    Missing(String),
    /// The database has it; `schema.toml` does not make it. Its definition.
    Extra(String),
    /// Both have it, defined differently.
    Differs { expected: String, actual: String },
}

/// One difference between the expected and the live catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// `None` only for a function.
    pub table: Option<String>,
    pub object: Object,
    pub change: Change,
}

impl Difference {
    /// A stable id such as `missing_column`, `extra_index` or `column_type`.
    pub fn rule(&self) -> String {
        let noun = match &self.object {
            Object::Table => "table",
            Object::Column(_) => "column",
            Object::ColumnType(_) => return "column_type".into(),
            Object::Nullability(_) => return "column_nullability".into(),
            Object::Default(_) => return "column_default".into(),
            Object::PrimaryKey => "primary_key",
            Object::Unique(_) => "unique",
            Object::ForeignKey(_) => "foreign_key",
            Object::Check(_) => "check",
            Object::Index(_) => "index",
            Object::Trigger(_) => "trigger",
            Object::Function(_) => "function",
        };
        match self.change {
            Change::Missing(_) => format!("missing_{noun}"),
            Change::Extra(_) => format!("extra_{noun}"),
            Change::Differs { .. } => format!("changed_{noun}"),
        }
    }

    /// One line naming the object and saying how it differs.
    pub fn message(&self) -> String {
        let table = self.table.as_deref().unwrap_or_default();
        let what = match &self.object {
            Object::Table => format!("table {table}"),
            Object::Column(c) => format!("column {table}.{c}"),
            Object::ColumnType(c) => format!("the type of {table}.{c}"),
            Object::Nullability(c) => format!("{table}.{c}"),
            Object::Default(c) => format!("the default of {table}.{c}"),
            Object::PrimaryKey => format!("the primary key of {table}"),
            Object::Unique(cols) => format!("unique constraint {table} ({})", cols.join(", ")),
            Object::ForeignKey(cols) => format!("foreign key {table} ({})", cols.join(", ")),
            Object::Check(name) => format!("check {name} on {table}"),
            Object::Index(name) => format!("index {name} on {table}"),
            Object::Trigger(name) => format!("trigger {name} on {table}"),
            Object::Function(name) => format!("function {name}"),
        };
        match &self.change {
            Change::Missing(def) if def.is_empty() => {
                format!("{what} is missing from the database")
            }
            Change::Missing(def) => format!("{what} is missing from the database: {def}"),
            Change::Extra(def) if def.is_empty() => {
                format!("{what} is in the database but not in schema.toml")
            }
            Change::Extra(def) => {
                format!("{what} is in the database but not in schema.toml: {def}")
            }
            Change::Differs { expected, actual } => {
                format!("{what} is {actual} in the database, {expected} from schema.toml")
            }
        }
    }
}

/// Every difference from `expected` (what `schema.toml` makes) to `actual` (the live database),
/// table by table in name order. A missing or extra table is one difference, not one per column.
pub fn diff(expected: &Catalog, actual: &Catalog) -> Vec<Difference> {
    let mut out = Vec::new();
    for (name, want) in &expected.tables {
        match actual.tables.get(name) {
            Some(have) => diff_table(name, want, have, &mut out),
            None => out.push(Difference {
                table: Some(name.clone()),
                object: Object::Table,
                change: Change::Missing(String::new()),
            }),
        }
    }
    for name in actual.tables.keys().filter(|n| !expected.tables.contains_key(*n)) {
        out.push(Difference {
            table: Some(name.clone()),
            object: Object::Table,
            change: Change::Extra(String::new()),
        });
    }
    keyed(None, &expected.functions, &actual.functions, Object::Function, &mut out);
    out
}

fn diff_table(name: &str, want: &Table, have: &Table, out: &mut Vec<Difference>) {
    let mut push = |object: Object, change: Change| {
        out.push(Difference { table: Some(name.to_owned()), object, change });
    };
    for column in &want.columns {
        let Some(live) = have.columns.iter().find(|c| c.name == column.name) else {
            push(Object::Column(column.name.clone()), Change::Missing(column_def(column)));
            continue;
        };
        let col = || column.name.clone();
        if live.ty != column.ty {
            let change = Change::Differs { expected: column.ty.clone(), actual: live.ty.clone() };
            push(Object::ColumnType(col()), change);
        }
        if live.not_null != column.not_null {
            let null = |not_null: bool| if not_null { "NOT NULL" } else { "nullable" }.to_owned();
            let change =
                Change::Differs { expected: null(column.not_null), actual: null(live.not_null) };
            push(Object::Nullability(col()), change);
        }
        if live.default != column.default {
            let show = |d: &Option<String>| d.clone().unwrap_or_else(|| "none".into());
            let change =
                Change::Differs { expected: show(&column.default), actual: show(&live.default) };
            push(Object::Default(col()), change);
        }
    }
    for column in have.columns.iter().filter(|c| !want.columns.iter().any(|w| w.name == c.name)) {
        push(Object::Column(column.name.clone()), Change::Extra(column_def(column)));
    }
    if want.primary_key != have.primary_key {
        let show = |cols: &[String]| {
            if cols.is_empty() { "none".to_owned() } else { format!("({})", cols.join(", ")) }
        };
        let change =
            Change::Differs { expected: show(&want.primary_key), actual: show(&have.primary_key) };
        push(Object::PrimaryKey, change);
    }
    for cols in want.uniques.iter().filter(|u| !have.uniques.contains(u)) {
        push(Object::Unique(cols.clone()), Change::Missing(String::new()));
    }
    for cols in have.uniques.iter().filter(|u| !want.uniques.contains(u)) {
        push(Object::Unique(cols.clone()), Change::Extra(String::new()));
    }
    // Foreign keys are matched by their columns and referenced table, so a changed action is
    // one difference and a reference moved to another table is a missing and an extra one.
    let same_target = |a: &ForeignKey, b: &ForeignKey| {
        a.columns == b.columns && a.ref_table == b.ref_table && a.ref_columns == b.ref_columns
    };
    for fk in &want.foreign_keys {
        match have.foreign_keys.iter().find(|h| same_target(fk, h)) {
            Some(live) if live != fk => push(
                Object::ForeignKey(fk.columns.clone()),
                Change::Differs { expected: fk.describe(), actual: live.describe() },
            ),
            Some(_) => {}
            None => push(Object::ForeignKey(fk.columns.clone()), Change::Missing(fk.describe())),
        }
    }
    for fk in
        have.foreign_keys.iter().filter(|h| !want.foreign_keys.iter().any(|w| same_target(w, h)))
    {
        push(Object::ForeignKey(fk.columns.clone()), Change::Extra(fk.describe()));
    }
    let table = Some(name);
    keyed(table, &want.checks, &have.checks, Object::Check, out);
    keyed(table, &want.indexes, &have.indexes, Object::Index, out);
    keyed(table, &want.triggers, &have.triggers, Object::Trigger, out);
}

/// Differences between two maps of named definitions.
fn keyed(
    table: Option<&str>,
    want: &BTreeMap<String, String>,
    have: &BTreeMap<String, String>,
    object: fn(String) -> Object,
    out: &mut Vec<Difference>,
) {
    let table = table.map(str::to_owned);
    for (name, def) in want {
        let change = match have.get(name) {
            Some(live) if live == def => continue,
            Some(live) => Change::Differs { expected: def.clone(), actual: live.clone() },
            None => Change::Missing(def.clone()),
        };
        out.push(Difference { table: table.clone(), object: object(name.clone()), change });
    }
    for (name, def) in have.iter().filter(|(n, _)| !want.contains_key(*n)) {
        let change = Change::Extra(def.clone());
        out.push(Difference { table: table.clone(), object: object(name.clone()), change });
    }
}

/// `incipit text NOT NULL DEFAULT ''`, as a column reads in DDL.
fn column_def(column: &Column) -> String {
    let mut out = format!("{} {}", column.name, column.ty);
    if column.not_null {
        out.push_str(" NOT NULL");
    }
    if let Some(default) = &column.default {
        out.push_str(&format!(" DEFAULT {default}"));
    }
    out
}
