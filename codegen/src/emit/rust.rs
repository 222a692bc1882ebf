//! The `generated` crate in `generated/rust`: one serde row struct per table, name constants and
//! enums per table, and the static metadata the schema-agnostic sync runtime reads.
//!
//! The items come from [`rust_items`], source text written directly (no token trees, no
//! pretty-printer), which a proc-macro (`include_schema!`) parses and expands to as well, so the
//! committed file and the macro can never disagree. Every path in the generated
//! code is absolute (`::std::string::String`, `::uuid::Uuid`): a table called `string`, `result`
//! or `uuid` produces an item of that name, which would otherwise shadow the type or crate.
//! `Some` and `None` stay short: row structs have named fields, so they take no value name.
//!
//! The committed file also carries the device's migration scripts (`SQLITE_MIGRATIONS`), which
//! come from `generated/migrations/`, not from `schema.toml`, so the macro has none.

use std::fmt::Write as _;

use heck::{ToShoutySnakeCase, ToUpperCamelCase};

use crate::GENERATED_NOTICE;
use crate::emit::{Files, SqliteMigration, rust_meta, rust_serde};
use crate::ir::{Column, Schema, Table};
use crate::types;

/// Rust keywords of edition 2024 (strict and reserved) that a snake_case name can spell; such
/// names become raw identifiers (`r#type`). Validation already refuses the few that cannot be
/// raw (`self`, `super`, `crate`).
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "do", "dyn",
    "else", "enum", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop",
    "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return", "static",
    "struct", "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use", "virtual",
    "where", "while", "yield",
];

/// `rust/Cargo.toml` and `rust/src/lib.rs`, by path relative to `generated/`; `migrations` are
/// sorted by version.
pub(super) fn files(schema: &Schema, migrations: &[SqliteMigration]) -> Files {
    Files::from([
        ("rust/Cargo.toml".to_owned(), cargo_toml()),
        ("rust/src/lib.rs".to_owned(), lib_rs(schema, migrations)),
    ])
}

fn cargo_toml() -> String {
    format!(
        r#"# {GENERATED_NOTICE}
[package]
name = "generated"
version = "0.1.0"
description = "Typed rows of the application schema, generated from schema.toml by `cargo xtask gen`"
edition.workspace = true
rust-version.workspace = true
license.workspace = true
publish.workspace = true

[dependencies]
chrono.workspace = true
serde.workspace = true
serde_json.workspace = true
sync-meta.workspace = true
uuid.workspace = true

[lints]
workspace = true
"#
    )
}

fn lib_rs(schema: &Schema, migrations: &[SqliteMigration]) -> String {
    let doc = format!(
        "Typed rows of the `{}` schema (version {}), generated from `schema.toml`.\n\n\
         Per table: a row struct that serializes to the sync wire format, a module with the\n\
         table's and columns' names and the enums of its `values` columns, and the table's\n\
         metadata as [`SyncRow::TABLE`](sync_meta::schema::SyncRow::TABLE). [`SCHEMA`]\n\
         lists every table for the schema-agnostic sync runtime.",
        schema.name, schema.version
    );
    let mut out = format!("// {GENERATED_NOTICE}\n");
    for line in doc.lines() {
        let _ = if line.is_empty() { writeln!(out, "//!") } else { writeln!(out, "//! {line}") };
    }
    // `cargo fmt --all` would reformat the file (the crate is a workspace member) and the drift
    // gate would then report it stale.
    out.push_str("#![cfg_attr(rustfmt, rustfmt::skip)]\n\n");
    items(&mut out, schema);
    out.push('\n');
    migrations_item(&mut out, migrations);
    out
}

/// `SQLITE_MIGRATIONS`: the scripts as `sync_meta::migration::Migration`s, each a raw string so
/// that the file shows it as it is.
fn migrations_item(out: &mut String, migrations: &[SqliteMigration]) {
    out.push_str(
        "/// The device's SQLite migration scripts (`generated/migrations/*.sqlite.sql`), by\n\
         /// version: the client runs those above a database's version on open\n\
         /// (`ClientConfig::migrations`, as `SQLITE_MIGRATIONS.to_vec()`).\n\
         pub static SQLITE_MIGRATIONS: &[::sync_meta::migration::Migration] = &[",
    );
    for m in migrations {
        let _ = write!(
            out,
            "\n    ::sync_meta::migration::Migration {{\n        version: {},\n        \
             sqlite: ::std::borrow::Cow::Borrowed({}),\n    }},",
            m.version,
            raw_string(&m.sql)
        );
    }
    out.push_str(if migrations.is_empty() { "];\n" } else { "\n];\n" });
}

/// `text` as a raw string literal, with as many `#` as it takes for the text not to end it.
fn raw_string(text: &str) -> String {
    let mut hashes = String::from("#");
    while text.contains(&format!("\"{hashes}")) {
        hashes.push('#');
    }
    format!("r{hashes}\"{text}\"{hashes}")
}

/// Every item of the generated crate as source text, without inner attributes so that a macro
/// can expand to exactly these items (`text.parse::<TokenStream>()`). Items are separated by a
/// blank line and end with a newline.
pub fn rust_items(schema: &Schema) -> String {
    let mut out = String::new();
    items(&mut out, schema);
    out
}

/// [`rust_items`], appended to `out` (the file's one buffer: the items are most of it).
fn items(out: &mut String, schema: &Schema) {
    let meta = crate::meta::schema_meta(schema);
    let _ = writeln!(
        out,
        "/// The `{}` schema, version {}: every table, in foreign key dependency order.",
        schema.name, schema.version
    );
    let tables: Vec<String> = schema
        .tables
        .iter()
        .map(|t| format!("<{} as ::sync_meta::schema::SyncRow>::TABLE", row_ident(t)))
        .collect();
    out.push_str("pub static SCHEMA: ::sync_meta::schema::SchemaMeta = ");
    rust_meta::schema_meta(out, meta, &tables);
    out.push_str(";\n");
    for (table, table_meta) in schema.tables.iter().zip(meta.tables) {
        let row = row_ident(table);
        out.push('\n');
        row_struct(out, table, &row);
        out.push('\n');
        sync_row(out, table_meta, &row);
        out.push('\n');
        rust_serde::row_impls(out, table, &row);
        out.push('\n');
        table_module(out, table);
    }
}

/// The row struct of a table.
fn row_struct(out: &mut String, table: &Table, row: &str) {
    docs(out, "", table.comment.as_deref().unwrap_or(&format!("A row of `{}`.", table.name)));
    let _ = writeln!(out, "#[derive(Debug, Clone, PartialEq)]\npub struct {row} {{");
    for column in &table.columns {
        if let Some(comment) = &column.comment {
            docs(out, "    ", comment);
        }
        let _ = writeln!(out, "    pub {}: {},", ident(&column.name), field_type(table, column));
    }
    out.push_str("}\n");
}

/// The `sync_meta::wire` module a column's values go through, if any (the type table's).
pub(crate) fn wire_helper(column: &Column) -> Option<String> {
    let base = types::entry(column.ty).wire_helper?;
    Some(if column.nullable { format!("{base}_opt") } else { base.to_owned() })
}

/// The `SyncRow` impl that gives the type `row` the metadata of `table`: for the generated row
/// structs, and for hand-written ones through `#[derive(SyncRow)]`, so both carry the very same
/// metadata. Source text, as [`rust_items`].
pub fn sync_row_impl(table: &Table, row: &str) -> String {
    let mut out = String::new();
    sync_row(&mut out, &crate::meta::table_meta(table), row);
    out
}

fn sync_row(out: &mut String, table: &sync_meta::schema::TableMeta, row: &str) {
    let _ = write!(
        out,
        "impl ::sync_meta::schema::SyncRow for {row} {{\n    \
         const TABLE: &'static ::sync_meta::schema::TableMeta = &"
    );
    rust_meta::table_meta(out, table, 4);
    out.push_str(";\n}\n");
}

/// A table's module of names and enums.
fn table_module(out: &mut String, table: &Table) {
    let _ = writeln!(out, "/// Names of table `{}` and its columns.", table.name);
    let _ = writeln!(out, "pub mod {} {{", ident(&table.name));
    let _ = writeln!(out, "    pub const TABLE: &str = {:?};", table.name);
    for c in &table.columns {
        let _ = writeln!(out, "    pub const {}: &str = {:?};", const_ident(c), c.name);
    }
    for column in &table.columns {
        enum_item(out, column);
    }
    out.push_str("}\n");
}

/// The enum of a `values` column, named after the column inside its table's module
/// (`tune::Type`), so that no two tables' enums can collide.
fn enum_item(out: &mut String, column: &Column) {
    let Some(values) = column.values.as_ref() else { return };
    let name = enum_ident(column);
    let variants = variant_idents(values);
    out.push('\n');
    let doc = format!("The values of column `{}`.", column.name);
    docs(out, "    ", column.comment.as_deref().unwrap_or(&doc));
    let _ = writeln!(out, "    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]");
    let _ = writeln!(out, "    pub enum {name} {{");
    for variant in &variants {
        let _ = writeln!(out, "        {variant},");
    }
    let _ = writeln!(out, "    }}\n\n    impl {name} {{");
    let _ = writeln!(out, "        /// Every value, in the order of `schema.toml`.");
    let all: Vec<String> = variants.iter().map(|v| format!("Self::{v}")).collect();
    let _ =
        writeln!(out, "        pub const ALL: [Self; {}] = [{}];", values.len(), all.join(", "));
    let _ = writeln!(out, "\n        /// The value as stored and sent on the wire.");
    let _ =
        writeln!(out, "        pub fn as_str(self) -> &'static str {{\n            match self {{");
    for (variant, value) in variants.iter().zip(values) {
        let _ = writeln!(out, "                Self::{variant} => {value:?},");
    }
    out.push_str("            }\n        }\n    }\n");
    rust_serde::enum_impls(out, &name, values);
}

/// A column's field type: `Option<T>` when nullable (docs/types.md).
fn field_type(table: &Table, column: &Column) -> String {
    let ty = value_type(table, column);
    if column.nullable { format!("::std::option::Option<{ty}>") } else { ty }
}

/// The type of a column's values, without `Option`: the enum of a `values` column, else the
/// type table's.
pub(crate) fn value_type(table: &Table, column: &Column) -> String {
    if column.values.is_some() {
        return enum_path(table, column);
    }
    types::entry(column.ty).rust.to_owned()
}

/// The type of a column's values as the docs and the derive check's messages show it: without
/// the absolute-path prefixes (`uuid::Uuid`, `chrono::DateTime<chrono::Utc>`, `tune::Type`).
pub(crate) fn shown_type(table: &Table, column: &Column) -> String {
    let ty = value_type(table, column);
    ty.replace("::std::string::", "").replace("<::", "<").trim_start_matches("::").to_owned()
}

/// The enum of a `values` column, by its path from the crate root: `tune::Type`.
pub(super) fn enum_path(table: &Table, column: &Column) -> String {
    format!("{}::{}", ident(&table.name), enum_ident(column))
}

pub(super) fn row_ident(table: &Table) -> String {
    table.name.to_upper_camel_case()
}

fn enum_ident(column: &Column) -> String {
    column.name.to_upper_camel_case()
}

fn const_ident(column: &Column) -> String {
    column.name.to_shouty_snake_case()
}

/// A table or column name as a Rust identifier, raw when it is a keyword.
pub(super) fn ident(name: &str) -> String {
    if KEYWORDS.contains(&name) { format!("r#{name}") } else { name.to_owned() }
}

/// Variant names for enum values, which may be any text: PascalCase of their ASCII letters and
/// digits, `V` in front when that is empty or starts with a digit, and a number behind when two
/// values would otherwise get the same name.
fn variant_idents(values: &[String]) -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(values.len());
    for value in values {
        let base: String =
            value.to_upper_camel_case().chars().filter(char::is_ascii_alphanumeric).collect();
        let base = match base.chars().next() {
            Some(c) if c.is_ascii_alphabetic() && base != "Self" => base,
            _ => format!("V{base}"),
        };
        let mut name = base.clone();
        let mut n = 2;
        while names.contains(&name) {
            name = format!("{base}{n}");
            n += 1;
        }
        names.push(name);
    }
    names
}

/// Doc comments for `text`, one `///` line per line, each line starting with `indent`. A line
/// with a carriage return, which a `///` comment may not hold, becomes a `#[doc]` attribute.
pub(super) fn docs(out: &mut String, indent: &str, text: &str) {
    for line in text.lines() {
        if line.contains('\r') {
            let _ = writeln!(out, "{indent}#[doc = {:?}]", format!(" {line}"));
        } else if line.is_empty() {
            let _ = writeln!(out, "{indent}///");
        } else {
            let _ = writeln!(out, "{indent}/// {line}");
        }
    }
}
