//! `include_schema!` and `#[derive(SyncRow)]`: Rust row types compiled from `schema.toml`, and
//! hand-written row structs checked against it.
//!
//! This crate is thin on purpose: it parses the macro input, calls the `codegen` library (the
//! same functions `cargo xtask gen` uses) and turns its errors into compile errors. Schema paths
//! are relative to the calling crate's `CARGO_MANIFEST_DIR`; every expansion includes the schema
//! through `include_str!`, so editing it rebuilds the caller.
//!
//! ```
//! // The items of `generated/rust/src/lib.rs`: row structs, name modules, enums, `SCHEMA`.
//! mod tunes {
//!     codegen_macros::include_schema!("../../schema.toml");
//! }
//!
//! // A hand-written row, checked against table `tune` at compile time. It derives serde's
//! // traits itself (the derive implements only `SyncRow`), and uses the same
//! // `sync_meta::wire` helpers as the generated structs for timestamps, dates and bigints.
//! #[derive(serde::Serialize, serde::Deserialize, codegen_macros::SyncRow)]
//! #[sync(table = "genre", schema = "../../schema.toml")] // defaults to "schema.toml"
//! struct Genre {
//!     id: String,
//!     // serde's rename is the wire name; `#[sync(rename = "name")]` may say it too, but
//!     // serde must agree.
//!     #[serde(rename = "name")]
//!     title: String,
//!     region: Option<String>,
//!     description: Option<String>,
//!     #[serde(with = "sync_meta::wire::timestamp")]
//!     last_modified_at: chrono::DateTime<chrono::Utc>,
//! }
//! # use sync_meta::schema::SyncRow as _;
//! # assert_eq!(Genre::TABLE, tunes::Genre::TABLE);
//! ```
//!
//! Every field must map to a column and every column to a field, with the column's Rust type
//! (an enum column may also be a `String`) and `Option` exactly where the column is nullable.
//! Types are compared by path, since a macro cannot resolve names: a type alias is refused.

mod attrs;

use std::path::{Path, PathBuf};

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::quote;
use syn::{DeriveInput, LitStr, parse_macro_input};

/// Expands to the items `cargo xtask gen` writes into `generated/rust/src/lib.rs` for the given
/// schema file (relative to the calling crate's `CARGO_MANIFEST_DIR`).
#[proc_macro]
pub fn include_schema(input: TokenStream) -> TokenStream {
    let path = parse_macro_input!(input as LitStr);
    let expanded = manifest_dir(&path).and_then(|dir| expand_include_schema(&path, &dir));
    expanded.unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Checks a struct against `#[sync(table = "...", schema = "...")]` and implements
/// `sync_meta::schema::SyncRow` for it.
#[proc_macro_derive(SyncRow, attributes(sync))]
pub fn derive_sync_row(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand_derive(&input).unwrap_or_else(syn::Error::into_compile_error).into()
}

fn expand_include_schema(path: &LitStr, manifest_dir: &Path) -> syn::Result<TokenStream2> {
    let loaded = Loaded::read(path, manifest_dir)?;
    let anchor = loaded.anchor();
    let items = parse(&codegen::emit::rust_items(&loaded.schema), path.span())?;
    Ok(quote!(#anchor #items))
}

/// The generator's source text as tokens: the very text `cargo xtask gen` writes.
fn parse(text: &str, span: proc_macro2::Span) -> syn::Result<TokenStream2> {
    text.parse()
        .map_err(|e| syn::Error::new(span, format!("the generated Rust does not parse: {e}")))
}

fn expand_derive(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let row = attrs::RowStruct::parse(input)?;
    let loaded = Loaded::read(&row.schema, &manifest_dir(&row.schema)?)?;
    let fields: Vec<codegen::Field> = row.fields.iter().map(|f| f.field.clone()).collect();
    let file = row.schema.value();
    let table = row.table.value();
    let table = codegen::check_struct(&loaded.schema, &file, &loaded.text, &table, &fields)
        .map_err(|mismatches| {
            let errors = mismatches.into_iter().map(|m| {
                let message = m.message;
                match m.at {
                    codegen::At::Table => syn::Error::new(row.table.span(), message),
                    codegen::At::Struct => syn::Error::new(input.ident.span(), message),
                    codegen::At::FieldName(i) => syn::Error::new(row.fields[i].name_span, message),
                    codegen::At::FieldType(i) => syn::Error::new_spanned(row.fields[i].ty, message),
                }
            });
            errors
                .reduce(|mut all, e| {
                    all.combine(e);
                    all
                })
                .expect("a failed check has a mismatch")
        })?;
    let anchor = loaded.anchor();
    let sync_row =
        parse(&codegen::emit::sync_row_impl(table, &input.ident.to_string()), input.ident.span())?;
    Ok(quote!(#anchor #sync_row))
}

fn manifest_dir(at: &LitStr) -> syn::Result<PathBuf> {
    std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).ok_or_else(|| {
        syn::Error::new(at.span(), "CARGO_MANIFEST_DIR is not set; build with cargo")
    })
}

/// A schema file read and validated at compile time.
struct Loaded {
    absolute: PathBuf,
    text: String,
    schema: codegen::ir::Schema,
}

impl Loaded {
    /// Reads `path` (relative to `manifest_dir`); any problem is an error on the literal. Messages
    /// name the file as written, so they read the same on every machine.
    fn read(path: &LitStr, manifest_dir: &Path) -> syn::Result<Self> {
        let name = path.value();
        let absolute = manifest_dir.join(&name);
        let text = std::fs::read_to_string(&absolute).map_err(|e| {
            let message =
                format!("cannot read schema file `{name}` (relative to CARGO_MANIFEST_DIR): {e}");
            syn::Error::new(path.span(), message)
        })?;
        let dir = absolute.parent().unwrap_or(manifest_dir);
        let schema = codegen::load_in(&name, &text, dir)
            .map_err(|e| syn::Error::new(path.span(), schema_error_message(&e)))?;
        Ok(Loaded { absolute, text, schema })
    }

    /// An item that makes the caller depend on the schema file, so that editing it rebuilds.
    fn anchor(&self) -> TokenStream2 {
        let path = self.absolute.to_string_lossy();
        quote!(
            const _: &str = include_str!(#path);
        )
    }
}

/// How many lines of the rendered report a compile error shows; the first problem's snippet
/// fits, and a long report would bury the one-line summary above it.
const REPORT_LINES: usize = 24;

/// The schema's problems as one compile error: `file:line:column: message` per problem, then
/// the start of the rustc-style report with its snippet.
fn schema_error_message(error: &codegen::SchemaError) -> String {
    let mut message = format!("invalid schema `{}`", error.file);
    for problem in &error.problems {
        message += &format!("\n{}: {}", error.position(problem), problem.message);
    }
    let report = error.render();
    let lines: Vec<&str> = report.lines().collect();
    message += "\n\n";
    message += &lines[..lines.len().min(REPORT_LINES)].join("\n");
    if lines.len() > REPORT_LINES {
        message += &format!("\n... ({} more lines)", lines.len() - REPORT_LINES);
    }
    message
}

#[cfg(test)]
mod tests;
