//! The sync protocol (docs/sync.md) as Rust types, from [`crate::protocol`]: the same
//! description the TypeScript `sync-types.ts` is printed from, so server, Rust client and
//! TypeScript client cannot disagree on a field.
//!
//! The runtime is schema-agnostic, so where TypeScript has one type per table the Rust side has
//! one type for all: a table is its name (`String`), a row and a key are JSON objects.
//! The file is committed in `sync-runtime` ([`PROTOCOL_PATH`]), written by `cargo xtask gen` and
//! compared by `cargo xtask check`, so the runtime never builds the generator. Every path in it
//! is absolute: the runtime's hand-written `Row`, `Key` and `True` are named through
//! `crate::protocol`, and timestamps go through `::sync_meta::wire`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::rust::docs;
use crate::GENERATED_NOTICE;
use crate::protocol::{Field, MESSAGES, Message, Shape, Wire};

/// Where the protocol's Rust file lives, relative to the workspace root.
pub const PROTOCOL_PATH: &str = "sync-runtime/src/protocol/messages.rs";

/// The contents of [`PROTOCOL_PATH`]: the protocol's types, which name three types
/// `sync_runtime::protocol` defines by hand: `Row` (a row's JSON), `Key` (a JSON object) and
/// `True` (the JSON value `true`).
pub fn protocol_file() -> String {
    let items = MESSAGES.iter().map(message);
    let file: syn::File = syn::parse2(quote! {
        #![doc = " The request and response types of `POST /api/sync`, printed from"]
        #![doc = " `codegen::protocol`, the description `sync-types.ts` comes from too."]
        #![cfg_attr(rustfmt, rustfmt::skip)]
        #(#items)*
    })
    .expect("the protocol tokens are a valid Rust file");
    format!("// {GENERATED_NOTICE}\n{}", prettyplease::unparse(&file))
}

fn message(message: &Message) -> TokenStream {
    let name = format_ident!("{}", message.name);
    let doc = docs(message.doc);
    let derive = quote!(#[derive(Debug, Clone, ::serde::Serialize, ::serde::Deserialize)]);
    match message.shape {
        Shape::Struct(fields) | Shape::PerTable(_, fields) => {
            let fields = fields.iter().filter(|f| !matches!(f.ty, Wire::Tag(_))).map(field);
            quote! {
                #doc
                #derive
                pub struct #name { #(#fields)* }
            }
        }
        Shape::Union(members) => union(&name, &doc, members),
        Shape::Enum(values) => string_enum(&name, &doc, values),
    }
}

/// A string enum, with its wire spelling as `as_str` and `Display`, for messages and logs.
fn string_enum(name: &proc_macro2::Ident, doc: &TokenStream, values: &[&str]) -> TokenStream {
    let idents: Vec<_> =
        values.iter().map(|v| format_ident!("{}", heck::AsUpperCamelCase(v).to_string())).collect();
    quote! {
        #doc
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        pub enum #name { #(#[serde(rename = #values)] #idents,)* }
        impl #name {
            /// The value as it is on the wire.
            pub const fn as_str(self) -> &'static str {
                match self { #(#name::#idents => #values,)* }
            }
        }
        impl ::std::fmt::Display for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    }
}

/// A union is internally tagged when every member has a tag field of the same name (`op`), and
/// told apart by its fields otherwise (`row` versus `key` and `deleted`).
fn union(name: &proc_macro2::Ident, doc: &TokenStream, members: &[&str]) -> TokenStream {
    let tags: Vec<Option<(&str, &str)>> = members.iter().map(|m| tag_of(lookup(m))).collect();
    let tag_field = tags.first().copied().flatten().map(|(field, _)| field);
    let tagged = tag_field.filter(|f| tags.iter().all(|t| t.is_some_and(|(g, _)| g == *f)));
    let variants = members.iter().zip(&tags).map(|(member, tag)| {
        let ident = format_ident!("{member}");
        match (tagged, tag) {
            (Some(_), Some((_, value))) => quote!(#[serde(rename = #value)] #ident(#ident),),
            _ => quote!(#ident(#ident),),
        }
    });
    let repr = match tagged {
        Some(field) => quote!(#[serde(tag = #field)]),
        None => quote!(#[serde(untagged)]),
    };
    quote! {
        #doc
        #[derive(Debug, Clone, ::serde::Serialize, ::serde::Deserialize)]
        #repr
        pub enum #name { #(#variants)* }
    }
}

fn lookup(name: &str) -> &'static Message {
    MESSAGES.iter().find(|m| m.name == name).expect("protocol references resolve")
}

/// The `(field, value)` of a message's tag field, if it has one.
fn tag_of(message: &Message) -> Option<(&'static str, &'static str)> {
    let (Shape::Struct(fields) | Shape::PerTable(_, fields)) = message.shape else { return None };
    fields.iter().find_map(|f| match f.ty {
        Wire::Tag(value) => Some((f.name, value)),
        _ => None,
    })
}

fn field(field: &Field) -> TokenStream {
    let name = format_ident!("{}", field.name);
    let doc = docs(field.doc);
    let ty = rust_type(&field.ty);
    let with = match field.ty {
        Wire::Timestamp => quote!(#[serde(with = "::sync_meta::wire::timestamp")]),
        _ => quote!(),
    };
    if field.optional {
        quote! {
            #doc
            #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
            pub #name: ::std::option::Option<#ty>,
        }
    } else {
        quote! { #doc #with pub #name: #ty, }
    }
}

fn rust_type(ty: &Wire) -> TokenStream {
    match ty {
        Wire::String | Wire::TableName => quote!(::std::string::String),
        Wire::Uuid => quote!(::uuid::Uuid),
        Wire::Timestamp => quote!(::chrono::DateTime<::chrono::Utc>),
        Wire::Integer => quote!(i64),
        Wire::Boolean => quote!(bool),
        Wire::True => quote!(crate::protocol::True),
        Wire::Tag(_) => unreachable!("tag fields become the enum's serde tag"),
        Wire::Nullable(inner) => {
            let inner = rust_type(inner);
            quote!(Option<#inner>)
        }
        Wire::List(inner) => {
            let inner = rust_type(inner);
            quote!(::std::vec::Vec<#inner>)
        }
        Wire::Message(name) => {
            let ident = format_ident!("{name}");
            quote!(#ident)
        }
        Wire::Row => quote!(crate::protocol::Row),
        Wire::Key | Wire::Object => quote!(crate::protocol::Key),
    }
}
