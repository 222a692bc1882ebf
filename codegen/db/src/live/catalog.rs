//! A database's schema as both databases' catalogs describe it, and every difference between
//! two of them: the one `schema.toml`'s DDL makes and the live one.
//!
//! Each side is read from a real catalog, so types and defaults are compared in the form the
//! database prints them (`timestamp(3) with time zone`, `'{}'::jsonb`), never as the generator
//! writes them. Column order and comments are not compared: neither changes what a query or
//! a sync sees.

use std::collections::BTreeMap;

/// Every table (by name), and the views and functions of the schema.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    pub tables: BTreeMap<String, Table>,
    /// View name -> its definition as the database prints it, on one line.
    pub views: BTreeMap<String, String>,
    /// Function signature (`_sync_stamp()`) -> its definition (Postgres only).
    pub functions: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// In the table's column order.
    pub columns: Vec<Column>,
    /// The primary key's columns; empty when there is none.
    pub primary_key: Vec<String>,
    /// The primary key constraint's name; `None` when it has none (SQLite's unnamed keys).
    pub primary_key_name: Option<String>,
    /// Unique constraints, in column order (unique indexes are indexes).
    pub uniques: Vec<Unique>,
    pub foreign_keys: Vec<ForeignKey>,
    /// Check (and exclusion) constraints: name -> definition. An unnamed one (SQLite) is keyed
    /// by its definition.
    pub checks: BTreeMap<String, String>,
    /// Indexes that back no constraint: name -> definition.
    pub indexes: BTreeMap<String, String>,
    /// Triggers: name -> definition (on SQLite, those of the sync machinery left out).
    pub triggers: BTreeMap<String, String>,
    pub row_security: RowSecurity,
    /// Row-level security policies: name -> command, roles and conditions.
    pub policies: BTreeMap<String, String>,
}

/// Postgres's row-level security on a table (SQLite has none).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RowSecurity {
    #[default]
    Off,
    /// `ENABLE ROW LEVEL SECURITY`: policies hold for every role but the table's owner.
    Enabled,
    /// `FORCE ROW LEVEL SECURITY` too: they hold for the owner as well.
    Forced,
}

impl RowSecurity {
    fn as_str(self) -> &'static str {
        match self {
            RowSecurity::Off => "off",
            RowSecurity::Enabled => "enabled",
            RowSecurity::Forced => "enabled and forced",
        }
    }
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

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Unique {
    pub columns: Vec<String>,
    /// `None` for an unnamed constraint (SQLite).
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    /// `None` for an unnamed constraint (SQLite).
    pub name: Option<String>,
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

/// What a difference is about, on a table (or, for a view or a function, on the schema).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Object {
    Table,
    Column(String),
    ColumnType(String),
    Nullability(String),
    Default(String),
    /// The key's name when the difference is about it (a rename).
    PrimaryKey(Option<String>),
    Unique(Named),
    ForeignKey(Named),
    Check(String),
    Index(String),
    Trigger(String),
    View(String),
    Function(String),
    /// Whether row-level security is on, and forced.
    RowSecurity,
    Policy(String),
}

/// A constraint known by its columns, and by its name when the difference is about the name
/// (a rename): a missing or extra key is shown by its columns, a renamed one by its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub columns: Vec<String>,
    pub name: Option<String>,
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
    /// Both have it, defined alike, under another name: the database's (`None` when it is
    /// unnamed). The object names it by `schema.toml`'s name.
    Renamed { actual: Option<String> },
}

/// One difference between the expected and the live catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// `None` only for a view or a function.
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
            Object::PrimaryKey(_) => "primary_key",
            Object::Unique(_) => "unique",
            Object::ForeignKey(_) => "foreign_key",
            Object::Check(_) => "check",
            Object::Index(_) => "index",
            Object::Trigger(_) => "trigger",
            Object::View(_) => "view",
            Object::Function(_) => "function",
            Object::RowSecurity => "row_security",
            Object::Policy(_) => "policy",
        };
        match self.change {
            Change::Missing(_) => format!("missing_{noun}"),
            Change::Extra(_) => format!("extra_{noun}"),
            Change::Differs { .. } => format!("changed_{noun}"),
            Change::Renamed { .. } => format!("renamed_{noun}"),
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
            Object::PrimaryKey(Some(name)) => format!("primary key {name} on {table}"),
            Object::PrimaryKey(None) => format!("the primary key of {table}"),
            Object::Unique(Named { name: Some(name), .. }) => {
                format!("unique constraint {name} on {table}")
            }
            Object::Unique(Named { columns, .. }) => {
                format!("unique constraint {table} ({})", columns.join(", "))
            }
            Object::ForeignKey(Named { name: Some(name), .. }) => {
                format!("foreign key {name} on {table}")
            }
            Object::ForeignKey(Named { columns, .. }) => {
                format!("foreign key {table} ({})", columns.join(", "))
            }
            Object::Check(name) => format!("check {name} on {table}"),
            Object::Index(name) => format!("index {name} on {table}"),
            Object::Trigger(name) => format!("trigger {name} on {table}"),
            Object::View(name) => format!("view {name}"),
            Object::Function(name) => format!("function {name}"),
            Object::RowSecurity => format!("row-level security on {table}"),
            Object::Policy(name) => format!("policy {name} on {table}"),
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
            Change::Renamed { actual: Some(actual) } => {
                format!("{what} is named {actual} in the database")
            }
            Change::Renamed { actual: None } => format!("{what} is unnamed in the database"),
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
    keyed(None, &expected.views, &actual.views, Object::View, &mut out);
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
        push(Object::PrimaryKey(None), change);
    } else if let Some(expected) = renamed(&want.primary_key_name, &have.primary_key_name) {
        let change = Change::Renamed { actual: have.primary_key_name.clone() };
        push(Object::PrimaryKey(Some(expected)), change);
    }
    let by_columns = |columns: &[String]| Named { columns: columns.to_vec(), name: None };
    for unique in &want.uniques {
        match have.uniques.iter().find(|h| h.columns == unique.columns) {
            None => {
                push(Object::Unique(by_columns(&unique.columns)), Change::Missing(String::new()))
            }
            Some(live) => {
                if let Some(expected) = renamed(&unique.name, &live.name) {
                    let named = Named { columns: unique.columns.clone(), name: Some(expected) };
                    push(Object::Unique(named), Change::Renamed { actual: live.name.clone() });
                }
            }
        }
    }
    for unique in
        have.uniques.iter().filter(|h| !want.uniques.iter().any(|w| w.columns == h.columns))
    {
        push(Object::Unique(by_columns(&unique.columns)), Change::Extra(String::new()));
    }
    // Foreign keys are matched by their columns and referenced table, so a changed action is
    // one difference and a reference moved to another table is a missing and an extra one.
    let same_target = |a: &ForeignKey, b: &ForeignKey| {
        a.columns == b.columns && a.ref_table == b.ref_table && a.ref_columns == b.ref_columns
    };
    for fk in &want.foreign_keys {
        let Some(live) = have.foreign_keys.iter().find(|h| same_target(fk, h)) else {
            push(Object::ForeignKey(by_columns(&fk.columns)), Change::Missing(fk.describe()));
            continue;
        };
        if live.describe() != fk.describe() {
            push(
                Object::ForeignKey(by_columns(&fk.columns)),
                Change::Differs { expected: fk.describe(), actual: live.describe() },
            );
        }
        if let Some(expected) = renamed(&fk.name, &live.name) {
            let named = Named { columns: fk.columns.clone(), name: Some(expected) };
            push(Object::ForeignKey(named), Change::Renamed { actual: live.name.clone() });
        }
    }
    for fk in
        have.foreign_keys.iter().filter(|h| !want.foreign_keys.iter().any(|w| same_target(w, h)))
    {
        push(Object::ForeignKey(by_columns(&fk.columns)), Change::Extra(fk.describe()));
    }
    let table = Some(name);
    keyed(table, &want.checks, &have.checks, Object::Check, out);
    keyed(table, &want.indexes, &have.indexes, Object::Index, out);
    keyed(table, &want.triggers, &have.triggers, Object::Trigger, out);
    if want.row_security != have.row_security {
        let (expected, actual) =
            (want.row_security.as_str().to_owned(), have.row_security.as_str().to_owned());
        out.push(Difference {
            table: Some(name.to_owned()),
            object: Object::RowSecurity,
            change: Change::Differs { expected, actual },
        });
    }
    keyed(table, &want.policies, &have.policies, Object::Policy, out);
}

/// `schema.toml`'s name of a constraint whose live name differs from it, if it does.
fn renamed(expected: &Option<String>, actual: &Option<String>) -> Option<String> {
    expected.clone().filter(|_| expected != actual)
}

/// Differences between two maps of named definitions. A missing one defined exactly like an
/// extra one, but for the name, is one renamed object.
fn keyed(
    table: Option<&str>,
    want: &BTreeMap<String, String>,
    have: &BTreeMap<String, String>,
    object: fn(String) -> Object,
    out: &mut Vec<Difference>,
) {
    let table = table.map(str::to_owned);
    let mut extra: Vec<(&String, &String)> =
        have.iter().filter(|(n, _)| !want.contains_key(*n)).collect();
    for (name, def) in want {
        let change = match have.get(name) {
            Some(live) if live == def => continue,
            Some(live) => Change::Differs { expected: def.clone(), actual: live.clone() },
            None => {
                let anonymous = without_name(name, def);
                match extra.iter().position(|(n, d)| without_name(n, d) == anonymous) {
                    Some(i) => {
                        let (live, live_def) = extra.remove(i);
                        // SQLite keys an unnamed check by its definition.
                        let actual = (live != live_def).then(|| live.clone());
                        Change::Renamed { actual }
                    }
                    None => Change::Missing(def.clone()),
                }
            }
        };
        out.push(Difference { table: table.clone(), object: object(name.clone()), change });
    }
    for (name, def) in extra {
        let change = Change::Extra(def.clone());
        out.push(Difference { table: table.clone(), object: object(name.clone()), change });
    }
}

/// A definition with its object's own name taken out (an index's and a trigger's definition
/// repeat it, quoted or not; a check's does not), so that two objects that differ only by
/// name compare equal.
fn without_name(name: &str, def: &str) -> String {
    for spelled in [format!(" \"{}\" ", name.replace('"', "\"\"")), format!(" {name} ")] {
        if let Some(at) = def.find(&spelled) {
            return format!("{} ? {}", &def[..at], &def[at + spelled.len()..]);
        }
    }
    def.to_owned()
}

/// Whitespace runs as one space, so that line breaks in stored or printed SQL do not count
/// and a definition reads on one line in a report.
pub(super) fn squeeze(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
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
