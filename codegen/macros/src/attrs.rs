//! Reads a `#[derive(SyncRow)]` input: the `#[sync(...)]` arguments, and each field's column
//! name and type as plain values for `codegen::check_struct`.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::punctuated::Punctuated;
use syn::{Data, DeriveInput, Fields, LitStr, Meta, Token};

/// The schema file a derive reads when `#[sync]` names none: the one next to `Cargo.toml`.
const DEFAULT_SCHEMA: &str = "schema.toml";

pub(crate) struct RowStruct<'a> {
    pub table: LitStr,
    /// The schema path, spanned at `schema = "..."`, or at `#[sync]` when it was left out.
    pub schema: LitStr,
    pub fields: Vec<RowField<'a>>,
}

pub(crate) struct RowField<'a> {
    pub field: codegen::Field,
    pub name_span: Span,
    pub ty: &'a syn::Type,
}

impl<'a> RowStruct<'a> {
    pub fn parse(input: &'a DeriveInput) -> syn::Result<Self> {
        let named = match &input.data {
            Data::Struct(s) => match &s.fields {
                Fields::Named(named) => named,
                _ => return Err(not_a_row(input)),
            },
            _ => return Err(not_a_row(input)),
        };
        if !input.generics.params.is_empty() {
            let message = "a row struct mirrors one table, so it cannot be generic";
            return Err(syn::Error::new_spanned(&input.generics, message));
        }
        for meta in serde_metas(&input.attrs) {
            if meta.path().is_ident("rename_all") || meta.path().is_ident("rename_all_fields") {
                let message = "`rename_all` would change every column name on the wire; \
                               rename single fields with `#[sync(rename = \"...\")]` instead";
                return Err(syn::Error::new_spanned(meta, message));
            }
        }
        let (mut table, mut schema): (Option<LitStr>, Option<LitStr>) = (None, None);
        let mut sync_span = None;
        for attr in input.attrs.iter().filter(|a| a.path().is_ident("sync")) {
            sync_span = Some(attr.pound_token.span);
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("table") {
                    table = Some(meta.value()?.parse()?);
                } else if meta.path.is_ident("schema") {
                    schema = Some(meta.value()?.parse()?);
                } else {
                    return Err(meta.error("expected `table = \"...\"` or `schema = \"...\"`"));
                }
                Ok(())
            })?;
        }
        let Some(table) = table else {
            let message = "`#[derive(SyncRow)]` needs the table: `#[sync(table = \"...\")]`";
            return Err(syn::Error::new(input.ident.span(), message));
        };
        let schema = schema
            .unwrap_or_else(|| LitStr::new(DEFAULT_SCHEMA, sync_span.unwrap_or(table.span())));
        let fields = named.named.iter().map(RowField::parse).collect::<syn::Result<_>>()?;
        Ok(RowStruct { table, schema, fields })
    }
}

impl<'a> RowField<'a> {
    fn parse(field: &'a syn::Field) -> syn::Result<Self> {
        let ident = field.ident.as_ref().expect("named fields have names");
        let name = ident.unraw().to_string();
        let mut rename: Option<LitStr> = None;
        for attr in field.attrs.iter().filter(|a| a.path().is_ident("sync")) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    rename = Some(meta.value()?.parse()?);
                    Ok(())
                } else {
                    Err(meta.error("expected `rename = \"...\"`"))
                }
            })?;
        }
        // serde's own rename decides the wire name when `#[sync]` gives none.
        let serde_rename = serde_string(&field.attrs, "rename");
        // serde decides the wire name, so a `#[sync]` rename that disagrees with it would pass
        // the check while the JSON carries another name.
        if let (Some(sync), Some(serde)) = (&rename, &serde_rename)
            && sync.value() != *serde
        {
            let message = format!("`#[serde(rename = \"{serde}\")]` puts another name on the wire");
            return Err(syn::Error::new(sync.span(), message));
        }
        let column = rename.map(|r| r.value()).or(serde_rename).unwrap_or_else(|| name.clone());
        let ty = codegen::RustType::from_syn(&field.ty);
        Ok(RowField {
            field: codegen::Field { name, column, ty, with: serde_string(&field.attrs, "with") },
            name_span: ident.span(),
            ty: &field.ty,
        })
    }
}

/// The string value of `#[serde(key = "...")]` on a field, if present.
fn serde_string(attrs: &[syn::Attribute], key: &str) -> Option<String> {
    serde_metas(attrs).into_iter().find_map(|meta| match meta {
        Meta::NameValue(nv) if nv.path.is_ident(key) => match nv.value {
            syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    })
}

/// The items of every `#[serde(...)]` attribute. Syntax serde itself would refuse is skipped
/// here: serde's derive reports it better.
fn serde_metas(attrs: &[syn::Attribute]) -> Vec<Meta> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("serde"))
        .filter_map(|a| a.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated).ok())
        .flatten()
        .collect()
}

fn not_a_row(input: &DeriveInput) -> syn::Error {
    let message = "`#[derive(SyncRow)]` needs a struct with named fields, one per column";
    syn::Error::new(input.ident.span(), message)
}
