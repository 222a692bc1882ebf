//! The `generated` crate in `generated/rust`: one serde row struct per table, name constants and
//! enums per table, and the static metadata the schema-agnostic sync runtime reads.
//!
//! The items come from [`rust_tokens`], which a proc-macro (`include_schema!`) expands to as
//! well, so the committed file and the macro can never disagree. Every path in the generated
//! code is absolute (`::std::string::String`, `::uuid::Uuid`): a table called `string`, `result`
//! or `uuid` produces an item of that name, which would otherwise shadow the type or crate.
//! `Some` and `None` stay short: row structs have named fields, so they take no value name.
//!
//! The committed file also carries the device's migration scripts (`SQLITE_MIGRATIONS`), which
//! come from `generated/migrations/`, not from `schema.toml`, so the macro has none.

use heck::{ToShoutySnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote};

use crate::GENERATED_NOTICE;
use crate::emit::{Files, SqliteMigration, rust_meta};
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
    let doc =
        doc.lines().map(|line| if line.is_empty() { String::new() } else { format!(" {line}") });
    let items = rust_tokens(schema);
    let migrations = migrations_tokens(migrations);
    // The committed file is prettyplease's output; `cargo fmt --all` would reformat it (the
    // crate is a workspace member) and the drift gate would then report it stale.
    let file: syn::File = syn::parse2(quote! {
        #(#![doc = #doc])*
        #![cfg_attr(rustfmt, rustfmt::skip)]
        #items
        #migrations
    })
    .expect("the generated tokens are a valid Rust file");
    format!("// {GENERATED_NOTICE}\n{}", prettyplease::unparse(&file))
}

/// `SQLITE_MIGRATIONS`: the scripts as `sync_meta::migration::Migration`s, each a raw string so
/// that the file shows it as it is.
fn migrations_tokens(migrations: &[SqliteMigration]) -> TokenStream {
    let items = migrations.iter().map(|m| {
        let version = Literal::u32_unsuffixed(m.version);
        let sql = raw_string(&m.sql);
        quote! {
            ::sync_meta::migration::Migration {
                version: #version,
                sqlite: ::std::borrow::Cow::Borrowed(#sql),
            }
        }
    });
    quote! {
        /// The device's SQLite migration scripts (`generated/migrations/*.sqlite.sql`), by
        /// version: the client runs those above a database's version on open
        /// (`ClientConfig::migrations`, as `SQLITE_MIGRATIONS.to_vec()`).
        pub static SQLITE_MIGRATIONS: &[::sync_meta::migration::Migration] = &[#(#items),*];
    }
}

/// `text` as a raw string literal, with as many `#` as it takes for the text not to end it.
fn raw_string(text: &str) -> Literal {
    let mut hashes = String::from("#");
    while text.contains(&format!("\"{hashes}")) {
        hashes.push('#');
    }
    format!("r{hashes}\"{text}\"{hashes}").parse().expect("a raw string literal")
}

/// Every item of the generated crate, without inner attributes so that a macro can expand to
/// exactly these tokens.
pub fn rust_tokens(schema: &Schema) -> TokenStream {
    let rows = schema.tables.iter().map(row_type);
    let doc = format!(
        " The `{}` schema, version {}: every table, in foreign key dependency order.",
        schema.name, schema.version
    );
    let tables = schema
        .tables
        .iter()
        .map(|t| {
            let row = row_ident(t);
            quote!(<#row as ::sync_meta::schema::SyncRow>::TABLE)
        })
        .collect();
    let meta = rust_meta::schema_tokens(crate::meta::schema_meta(schema), tables);
    let tables_items = schema.tables.iter().map(table_items);
    quote! {
        #[doc = #doc]
        pub static SCHEMA: ::sync_meta::schema::SchemaMeta = #meta;
        #(#rows #tables_items)*
    }
}

/// The row struct of a table.
fn row_type(table: &Table) -> TokenStream {
    let row = row_ident(table);
    let doc = docs(table.comment.as_deref().unwrap_or(&format!("A row of `{}`.", table.name)));
    let fields = table.columns.iter().map(|column| {
        let name = ident(&column.name);
        let ty = field_type(table, column);
        let field_doc = column.comment.as_deref().map(docs);
        let serde = wire_helper(column).map(|helper| {
            let path = format!("::sync_meta::wire::{helper}");
            // With `with`, serde no longer treats a missing field as `None`; `default` keeps
            // every nullable field alike.
            if column.nullable {
                quote!(#[serde(with = #path, default)])
            } else {
                quote!(#[serde(with = #path)])
            }
        });
        quote! { #field_doc #serde pub #name: #ty, }
    });
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, ::serde::Serialize, ::serde::Deserialize)]
        pub struct #row { #(#fields)* }
    }
}

/// The `sync_meta::wire` module a column's values go through, if any (the type table's).
pub(crate) fn wire_helper(column: &Column) -> Option<String> {
    let base = types::entry(column.ty).wire_helper?;
    Some(if column.nullable { format!("{base}_opt") } else { base.to_owned() })
}

/// A table's `SyncRow` impl (its metadata) and its module of names and enums.
fn table_items(table: &Table) -> TokenStream {
    let row = row_ident(table);
    let module = ident(&table.name);
    let module_doc = format!(" Names of table `{}` and its columns.", table.name);
    let table_name = &table.name;
    let consts = table.columns.iter().map(|c| {
        let konst = const_ident(c);
        let name = &c.name;
        quote!(pub const #konst: &str = #name;)
    });
    let enums = table.columns.iter().filter_map(enum_item);
    let sync_row = sync_row_impl(table, &row);
    quote! {
        #sync_row

        #[doc = #module_doc]
        pub mod #module {
            pub const TABLE: &str = #table_name;
            #(#consts)*
            #(#enums)*
        }
    }
}

/// The `SyncRow` impl that gives the type `row` the metadata of `table`: for the generated row
/// structs, and for hand-written ones through `#[derive(SyncRow)]`, so both carry the very same
/// metadata.
pub fn sync_row_impl(table: &Table, row: &Ident) -> TokenStream {
    let meta = rust_meta::table_tokens(&crate::meta::table_meta(table));
    quote! {
        impl ::sync_meta::schema::SyncRow for #row {
            const TABLE: &'static ::sync_meta::schema::TableMeta = &#meta;
        }
    }
}

/// The enum of a `values` column, named after the column inside its table's module
/// (`tune::Type`), so that no two tables' enums can collide.
fn enum_item(column: &Column) -> Option<TokenStream> {
    let values = column.values.as_ref()?;
    let name = enum_ident(column);
    let doc = docs(
        column.comment.as_deref().unwrap_or(&format!("The values of column `{}`.", column.name)),
    );
    let variants = variant_idents(values);
    let count = Literal::usize_unsuffixed(values.len());
    Some(quote! {
        #doc
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        pub enum #name { #(#[serde(rename = #values)] #variants,)* }

        impl #name {
            /// Every value, in the order of `schema.toml`.
            pub const ALL: [Self; #count] = [#(Self::#variants),*];

            /// The value as stored and sent on the wire.
            pub fn as_str(self) -> &'static str {
                match self { #(Self::#variants => #values,)* }
            }
        }
    })
}

/// A column's field type: `Option<T>` when nullable (docs/types.md).
fn field_type(table: &Table, column: &Column) -> TokenStream {
    let ty = value_type(table, column);
    if column.nullable { quote!(::std::option::Option<#ty>) } else { ty }
}

/// The type of a column's values, without `Option`: the enum of a `values` column, else the
/// type table's.
pub(crate) fn value_type(table: &Table, column: &Column) -> TokenStream {
    if column.values.is_some() {
        let module = ident(&table.name);
        let name = enum_ident(column);
        return quote!(#module::#name);
    }
    types::entry(column.ty).rust.parse().expect("the type table's Rust types are valid tokens")
}

/// The type of a column's values as the docs and the derive check's messages show it: without
/// the absolute-path prefixes (`uuid::Uuid`, `chrono::DateTime<chrono::Utc>`, `tune::Type`).
pub(crate) fn shown_type(table: &Table, column: &Column) -> String {
    let tokens: String = value_type(table, column).to_string().split_whitespace().collect();
    tokens.replace("::std::string::", "").replace("<::", "<").trim_start_matches("::").to_owned()
}

fn row_ident(table: &Table) -> Ident {
    format_ident!("{}", table.name.to_upper_camel_case())
}

fn enum_ident(column: &Column) -> Ident {
    format_ident!("{}", column.name.to_upper_camel_case())
}

fn const_ident(column: &Column) -> Ident {
    format_ident!("{}", column.name.to_shouty_snake_case())
}

/// A table or column name as a Rust identifier, raw when it is a keyword.
fn ident(name: &str) -> Ident {
    if KEYWORDS.contains(&name) {
        Ident::new_raw(name, Span::call_site())
    } else {
        Ident::new(name, Span::call_site())
    }
}

/// Variant names for enum values, which may be any text: PascalCase of their ASCII letters and
/// digits, `V` in front when that is empty or starts with a digit, and a number behind when two
/// values would otherwise get the same name.
fn variant_idents(values: &[String]) -> Vec<Ident> {
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
    names.iter().map(|n| format_ident!("{n}")).collect()
}

/// `#[doc]` attributes for a comment, one per line, each with the space `///` would put there.
pub(super) fn docs(text: &str) -> TokenStream {
    let lines = text.lines().map(|line| format!(" {line}"));
    quote!(#(#[doc = #lines])*)
}
