//! `schema.md`: a Mermaid ER diagram that GitHub renders, then one section per table with its
//! sync scope and every column's type in every target.

use std::fmt::Write as _;

use crate::GENERATED_NOTICE;
use crate::emit::{rust, ts};
use crate::ir::{Column, DefaultValue, ForeignKey, Schema, Table};
use crate::types;

pub(super) fn emit(schema: &Schema) -> String {
    let mut out = format!("<!-- {GENERATED_NOTICE} -->\n");
    let _ = writeln!(out, "# Schema `{}`, version {}\n", schema.name, schema.version);
    out.push_str("```mermaid\nerDiagram\n");
    for table in &schema.tables {
        entity(&mut out, table);
    }
    for table in &schema.tables {
        for fk in &table.foreign_keys {
            relationship(&mut out, table, fk);
        }
    }
    out.push_str("```\n");
    for table in &schema.tables {
        section(&mut out, schema, table);
    }
    out
}

fn entity(out: &mut String, table: &Table) {
    let _ = writeln!(out, "    {} {{", table.name);
    for column in &table.columns {
        let in_fk = table.foreign_keys.iter().any(|fk| fk.columns.contains(&column.name));
        let keys: Vec<&str> = [
            (table.primary_key.columns.contains(&column.name), "PK"),
            (in_fk, "FK"),
            (is_unique_member(table, column), "UK"),
        ]
        .into_iter()
        .filter_map(|(has, key)| has.then_some(key))
        .collect();
        let keys = if keys.is_empty() { String::new() } else { format!(" {}", keys.join(", ")) };
        let _ = writeln!(out, "        {} {}{keys}", column.ty.as_str(), column.name);
    }
    out.push_str("    }\n");
}

/// Whether the column is part of a unique constraint or a unique index.
fn is_unique_member(table: &Table, column: &Column) -> bool {
    table.uniques.iter().any(|u| u.columns.contains(&column.name))
        || table.indexes.iter().any(|i| i.unique && i.columns.iter().any(|c| c.name == column.name))
}

/// `parent ||--o{ child`: the parent side is "exactly one" when every foreign key column is NOT
/// NULL and "zero or one" otherwise; the child side is "zero or one" when the key columns are
/// themselves unique (the primary key or a unique constraint), else "zero or more".
fn relationship(out: &mut String, table: &Table, fk: &ForeignKey) {
    let nullable = fk.columns.iter().any(|c| table.column(c).is_some_and(|c| c.nullable));
    let parent = if nullable { "|o" } else { "||" };
    let one_per_parent = table.primary_key.columns == fk.columns
        || table.uniques.iter().any(|u| u.columns == fk.columns);
    let child = if one_per_parent { "o|" } else { "o{" };
    let _ = writeln!(
        out,
        "    {} {parent}--{child} {} : \"{}\"",
        fk.ref_table,
        table.name,
        fk.columns.join(", ")
    );
}

fn section(out: &mut String, schema: &Schema, table: &Table) {
    let _ = writeln!(out, "\n## `{}`\n", table.name);
    if let Some(comment) = &table.comment {
        let _ = writeln!(out, "{comment}\n");
    }
    let sync = &table.sync;
    let roles: Vec<String> = [
        ("owner", &sync.owner),
        ("modified", &sync.modified),
        ("deleted", &sync.deleted),
        ("version", &sync.version),
        ("device", &sync.device),
    ]
    .into_iter()
    .filter_map(|(role, column)| column.as_ref().map(|c| format!("{role} `{c}`")))
    .collect();
    let _ = write!(out, "Sync scope: `{}`", table.scope.as_toml());
    if !roles.is_empty() {
        let _ = write!(out, " ({})", roles.join(", "));
    }
    let targets: Vec<&str> =
        [(table.targets.sqlite, "SQLite"), (table.targets.postgres, "Postgres")]
            .into_iter()
            .filter_map(|(on, name)| on.then_some(name))
            .collect();
    let _ = writeln!(
        out,
        ". Primary key: {}. Databases: {}.\n",
        code_list(&table.primary_key.columns),
        targets.join(", ")
    );
    out.push_str(
        "| Column | Type | SQLite | Postgres | TypeScript | Rust | Nullable | Default | Comment |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for column in &table.columns {
        let cells = [
            format!("`{}`", column.name),
            column.ty.as_str().to_owned(),
            types::sqlite_type(column.ty, schema.timestamp_storage).to_owned(),
            types::postgres_type(column.ty, column.storage).ddl.to_owned(),
            format!("`{}`", ts::value_type(table, column)),
            format!("`{}`", rust::shown_type(table, column)),
            if column.nullable { "yes" } else { "no" }.to_owned(),
            column.default.as_ref().map(default_text).unwrap_or_default(),
            column.comment.clone().unwrap_or_default(),
        ];
        let cells: Vec<String> = cells.iter().map(|c| cell(c)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
}

fn code_list(names: &[String]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

fn default_text(default: &DefaultValue) -> String {
    match default {
        DefaultValue::Random => "random".into(),
        DefaultValue::Now => "now".into(),
        DefaultValue::Text(s) => format!("`{}`", serde_json::Value::from(s.as_str())),
        DefaultValue::Integer(i) => format!("`{i}`"),
        DefaultValue::Real(r) => format!("`{r:?}`"),
        DefaultValue::Boolean(b) => format!("`{b}`"),
        DefaultValue::Timestamp(s) | DefaultValue::Date(s) | DefaultValue::Json(s) => {
            format!("`{s}`")
        }
    }
}

/// Text safe inside one Markdown table cell: a `|` would start a new cell (even inside code)
/// and a line break (LF, CRLF or a lone CR) would end the row.
fn cell(text: &str) -> String {
    if !text.contains(['|', '\r', '\n']) {
        return text.to_owned();
    }
    text.replace('|', "\\|").replace("\r\n", "<br>").replace(['\r', '\n'], "<br>")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = r#"
        [schema]
        name = "t"
        version = 1
        timestamp_storage = "integer"

        [tables.item]
        [tables.item.columns]
        id = { type = "uuid", primary_key = true }
        type = { type = "text", values = ["a", "b"] }
        at = { type = "timestamp" }
        name = { type = "text" }
        raw = { type = "json", storage = "text" }
    "#;

    #[test]
    fn every_column_row_names_its_type_in_every_target() {
        let schema = crate::load("schema.toml", SCHEMA).expect("valid");
        let doc = emit(&schema);
        let rows: Vec<&str> = doc.lines().filter(|l| l.starts_with("| `")).collect();
        let expected = [
            "| `id` | uuid | TEXT | uuid | `string` | `uuid::Uuid` |",
            "| `type` | text | TEXT | text | `ItemType` | `item::Type` |",
            "| `at` | timestamp | INTEGER | timestamptz(3) | `string` | `chrono::DateTime<chrono::Utc>` |",
            "| `name` | text | TEXT | text | `string` | `String` |",
            "| `raw` | json | TEXT | text | `unknown` | `serde_json::Value` |",
        ];
        assert_eq!(rows.len(), expected.len(), "{doc}");
        for (row, start) in rows.iter().zip(expected) {
            assert!(row.starts_with(start), "{row}");
        }
    }
}
