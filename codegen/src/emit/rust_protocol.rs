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

use std::fmt::Write as _;

use super::rust::docs;
use crate::GENERATED_NOTICE;
use crate::protocol::{Field, MESSAGES, Message, Shape, Wire};

/// Where the protocol's Rust file lives, relative to the workspace root.
pub const PROTOCOL_PATH: &str = "sync-runtime/src/protocol/messages.rs";

const DERIVE: &str = "#[derive(Debug, Clone, ::serde::Serialize, ::serde::Deserialize)]";

/// The contents of [`PROTOCOL_PATH`]: the protocol's types, which name three types
/// `sync_runtime::protocol` defines by hand: `Row` (a row's JSON), `Key` (a JSON object) and
/// `True` (the JSON value `true`). Source text, written directly.
pub fn protocol_file() -> String {
    let mut out = format!(
        "// {GENERATED_NOTICE}\n\
         //! The request and response types of `POST /api/sync`, printed from\n\
         //! `codegen::protocol`, the description `sync-types.ts` comes from too.\n\
         #![cfg_attr(rustfmt, rustfmt::skip)]\n"
    );
    for m in MESSAGES {
        out.push('\n');
        message(&mut out, m);
    }
    out
}

fn message(out: &mut String, message: &Message) {
    let name = message.name;
    docs(out, "", message.doc);
    match message.shape {
        Shape::Struct(fields) | Shape::PerTable(_, fields) => {
            let _ = writeln!(out, "{DERIVE}\npub struct {name} {{");
            for f in fields.iter().filter(|f| !matches!(f.ty, Wire::Tag(_))) {
                field(out, f);
            }
            out.push_str("}\n");
        }
        Shape::Union(members) => union(out, name, members),
        Shape::Enum(values) => string_enum(out, name, values),
    }
}

/// A string enum, with its wire spelling as `as_str` and `Display`, for messages and logs.
fn string_enum(out: &mut String, name: &str, values: &[&str]) {
    let idents: Vec<String> =
        values.iter().map(|v| heck::AsUpperCamelCase(v).to_string()).collect();
    out.push_str(
        "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]\n",
    );
    let _ = writeln!(out, "pub enum {name} {{");
    for (ident, value) in idents.iter().zip(values) {
        let _ = writeln!(out, "    #[serde(rename = {value:?})]\n    {ident},");
    }
    let _ = writeln!(out, "}}\n\nimpl {name} {{");
    out.push_str("    /// The value as it is on the wire.\n");
    out.push_str("    pub const fn as_str(self) -> &'static str {\n        match self {\n");
    for (ident, value) in idents.iter().zip(values) {
        let _ = writeln!(out, "            {name}::{ident} => {value:?},");
    }
    out.push_str("        }\n    }\n}\n\n");
    let _ = writeln!(
        out,
        "impl ::std::fmt::Display for {name} {{\n    \
         fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {{\n        \
         f.write_str(self.as_str())\n    }}\n}}"
    );
}

/// A union is internally tagged when every member has a tag field of the same name (`op`), and
/// told apart by its fields otherwise (`row` versus `key` and `deleted`).
fn union(out: &mut String, name: &str, members: &[&str]) {
    let tags: Vec<Option<(&str, &str)>> = members.iter().map(|m| tag_of(lookup(m))).collect();
    let tag_field = tags.first().copied().flatten().map(|(field, _)| field);
    let tagged = tag_field.filter(|f| tags.iter().all(|t| t.is_some_and(|(g, _)| g == *f)));
    let _ = writeln!(out, "{DERIVE}");
    let _ = match tagged {
        Some(field) => writeln!(out, "#[serde(tag = {field:?})]"),
        None => writeln!(out, "#[serde(untagged)]"),
    };
    let _ = writeln!(out, "pub enum {name} {{");
    for (member, tag) in members.iter().zip(&tags) {
        if let (Some(_), Some((_, value))) = (tagged, tag) {
            let _ = writeln!(out, "    #[serde(rename = {value:?})]");
        }
        let _ = writeln!(out, "    {member}({member}),");
    }
    out.push_str("}\n");
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

fn field(out: &mut String, field: &Field) {
    docs(out, "    ", field.doc);
    let (name, ty) = (field.name, rust_type(&field.ty));
    if field.optional {
        out.push_str(
            "    #[serde(default, skip_serializing_if = \"::std::option::Option::is_none\")]\n",
        );
        let _ = writeln!(out, "    pub {name}: ::std::option::Option<{ty}>,");
        return;
    }
    if let Wire::Timestamp = field.ty {
        out.push_str("    #[serde(with = \"::sync_meta::wire::timestamp\")]\n");
    }
    let _ = writeln!(out, "    pub {name}: {ty},");
}

fn rust_type(ty: &Wire) -> String {
    match ty {
        Wire::String | Wire::TableName => "::std::string::String".to_owned(),
        Wire::Uuid => "::uuid::Uuid".to_owned(),
        Wire::Timestamp => "::chrono::DateTime<::chrono::Utc>".to_owned(),
        Wire::Integer => "i64".to_owned(),
        Wire::Boolean => "bool".to_owned(),
        Wire::True => "crate::protocol::True".to_owned(),
        Wire::Tag(_) => unreachable!("tag fields become the enum's serde tag"),
        Wire::Nullable(inner) => format!("Option<{}>", rust_type(inner)),
        Wire::List(inner) => format!("::std::vec::Vec<{}>", rust_type(inner)),
        Wire::Message(name) => (*name).to_owned(),
        Wire::Row => "crate::protocol::Row".to_owned(),
        Wire::Key | Wire::Object => "crate::protocol::Key".to_owned(),
    }
}
