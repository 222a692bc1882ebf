//! Schema metadata ([`sync_meta::schema`]) printed as Rust source: the `static` data of the
//! generated crate and of `#[derive(SyncRow)]`. The values come from [`crate::meta`], the one
//! translation of the IR, so what is printed is what a server that loads `schema.toml` builds.
//! Every struct is destructured whole, so a field added to the metadata fails to compile here
//! until it is printed. A column, a key or a check is one line, so the file reads as a table.

use std::fmt::Write as _;

use heck::ToUpperCamelCase;
use sync_meta::schema::{
    CheckMeta, ColumnMeta, Constraints, Deletes, ForeignKeyMeta, KeyMeta, SchemaMeta, Scope,
    Storage, SyncColumns, TableMeta, Targets, TimestampStorage,
};

const META: &str = "::sync_meta::schema::";

/// `::sync_meta::schema::SchemaMeta { .. }` whose tables are `tables` (expressions of type
/// `&'static TableMeta`, such as each row type's `SyncRow::TABLE`), at item level.
pub(super) fn schema_meta(out: &mut String, schema: &SchemaMeta, tables: &[String]) {
    let SchemaMeta { name, version, min_client_version, timestamp_storage, tables: _ } = schema;
    let timestamp_storage = match timestamp_storage {
        TimestampStorage::Text => "Text",
        TimestampStorage::Integer => "Integer",
    };
    let _ = writeln!(out, "{META}SchemaMeta {{");
    let _ = writeln!(out, "    name: {name:?},");
    let _ = writeln!(out, "    version: {version},");
    let _ = writeln!(out, "    min_client_version: {min_client_version},");
    let _ = writeln!(out, "    timestamp_storage: {META}TimestampStorage::{timestamp_storage},");
    out.push_str("    tables: &[\n");
    for table in tables {
        let _ = writeln!(out, "        {table},");
    }
    out.push_str("    ],\n}");
}

/// `::sync_meta::schema::TableMeta { .. }`, its first line at the indentation `indent` (in
/// spaces) and not indented, its last line ending in `}`.
pub(super) fn table_meta(out: &mut String, table: &TableMeta, indent: usize) {
    let TableMeta { name, columns, primary_key, scope, sync, targets, constraints, deletes } =
        table;
    let pad = " ".repeat(indent);
    let _ = writeln!(out, "{META}TableMeta {{");
    let _ = writeln!(out, "{pad}    name: {name:?},");
    let _ = writeln!(out, "{pad}    columns: &[");
    for column in *columns {
        let _ = write!(out, "{pad}        ");
        column_meta(out, column);
        out.push_str(",\n");
    }
    let _ = writeln!(out, "{pad}    ],");
    let _ = writeln!(out, "{pad}    primary_key: &{},", names(primary_key));
    let scope = match scope {
        Scope::Owner => "Owner".to_owned(),
        Scope::OwnerOrPublic => "OwnerOrPublic".to_owned(),
        Scope::Public => "Public".to_owned(),
        Scope::None => "None".to_owned(),
        Scope::Via { column, parent_table } => {
            format!("Via {{ column: {column:?}, parent_table: {parent_table:?} }}")
        }
    };
    let _ = writeln!(out, "{pad}    scope: {META}Scope::{scope},");
    let SyncColumns { owner, modified, deleted, version, device } = sync;
    let [owner, modified, deleted, version, device] = [owner, modified, deleted, version, device]
        .map(|c| option(c.map(|name| format!("{name:?}"))));
    let _ = writeln!(
        out,
        "{pad}    sync: {META}SyncColumns {{ owner: {owner}, modified: {modified}, deleted: {deleted}, \
         version: {version}, device: {device} }},"
    );
    let Targets { sqlite, postgres } = targets;
    let _ = writeln!(
        out,
        "{pad}    targets: {META}Targets {{ sqlite: {sqlite}, postgres: {postgres} }},"
    );
    let _ = write!(out, "{pad}    constraints: ");
    constraints_meta(out, constraints, &pad);
    let deletes = match deletes {
        Deletes::Soft => "Soft",
        Deletes::Hard => "Hard",
        Deletes::Never => "Never",
    };
    let _ = writeln!(out, "{pad}    deletes: {META}Deletes::{deletes},");
    let _ = write!(out, "{pad}}}");
}

fn constraints_meta(out: &mut String, constraints: &Constraints, pad: &str) {
    let Constraints { primary_key, unique, foreign_keys, checks, indexes } = constraints;
    let key = |k: &KeyMeta| {
        let KeyMeta { name, columns } = k;
        format!("{META}KeyMeta {{ name: {name:?}, columns: &{} }}", names(columns))
    };
    let foreign_key = |fk: &ForeignKeyMeta| {
        let ForeignKeyMeta { name, columns, ref_table, ref_columns } = fk;
        format!(
            "{META}ForeignKeyMeta {{ name: {name:?}, columns: &{}, ref_table: {ref_table:?}, \
             ref_columns: &{} }}",
            names(columns),
            names(ref_columns)
        )
    };
    let check = |c: &CheckMeta| {
        let CheckMeta { name, column } = c;
        let column = option(column.map(|c| format!("{c:?}")));
        format!("{META}CheckMeta {{ name: {name:?}, column: {column} }}")
    };
    let _ = writeln!(out, "{META}Constraints {{");
    let _ = writeln!(out, "{pad}        primary_key: {primary_key:?},");
    list(out, pad, "unique", unique.iter().map(key));
    list(out, pad, "foreign_keys", foreign_keys.iter().map(foreign_key));
    list(out, pad, "checks", checks.iter().map(check));
    list(out, pad, "indexes", indexes.iter().map(key));
    let _ = writeln!(out, "{pad}    }},");
}

/// `field: &[..],` inside `Constraints`: `&[]` when empty, else one item per line.
fn list(out: &mut String, pad: &str, field: &str, items: impl ExactSizeIterator<Item = String>) {
    if items.len() == 0 {
        let _ = writeln!(out, "{pad}        {field}: &[],");
        return;
    }
    let _ = writeln!(out, "{pad}        {field}: &[");
    for item in items {
        let _ = writeln!(out, "{pad}            {item},");
    }
    let _ = writeln!(out, "{pad}        ],");
}

fn column_meta(out: &mut String, column: &ColumnMeta) {
    let ColumnMeta { name, ty, nullable, has_default, values, storage } = column;
    let ty = variant(ty.as_str());
    let values = option(values.map(|values| format!("&{}", names(values))));
    let Storage { postgres, stored_as } = storage;
    let postgres = option(postgres.map(|p| format!("{META}PostgresType::{}", variant(p.as_str()))));
    let stored_as = option(stored_as.map(|s| format!("{META}StoredAs::{}", variant(s.as_str()))));
    let _ = write!(
        out,
        "{META}ColumnMeta {{ name: {name:?}, ty: {META}LogicalType::{ty}, nullable: {nullable}, \
         has_default: {has_default}, values: {values}, storage: {META}Storage {{ postgres: \
         {postgres}, stored_as: {stored_as} }} }}"
    );
}

/// `["a", "b"]`: a list of names as an array literal (callers borrow it).
fn names(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    format!("[{}]", quoted.join(", "))
}

/// An enum variant from its `schema.toml` spelling: `timestamptz` -> `Timestamptz`.
fn variant(spelling: &str) -> String {
    spelling.to_upper_camel_case()
}

fn option(value: Option<String>) -> String {
    match value {
        Some(value) => format!("Some({value})"),
        None => "None".to_owned(),
    }
}
