//! `src/sync-types.d.ts` (and the `.js` of its table lists): the sync protocol (docs/sync.md) from [`crate::protocol`], with the table
//! name as the discriminant, so a change for table `tune` carries a `TuneRow` and a `TuneKey`.

use super::literal::Lit;
use super::{SYNC_TABLES_TYPE, doc_comment, header, string_lit, type_name};
use crate::ir::Schema;
use crate::names::set_names;
use crate::protocol::{Field, MESSAGES, Shape, Tables, Wire};

/// The longest line a string union is printed on; a longer union takes a line per value.
const MAX_LINE: usize = 100;

/// The module's JavaScript (the table lists) and its declarations (the protocol's types).
pub(super) fn emit(schema: &Schema) -> (String, String) {
    let mut js = header();
    let mut out = header();
    let synced: Vec<_> = schema.tables.iter().filter(|t| Tables::Synced.contains(t)).collect();
    if !synced.is_empty() {
        let imports: Vec<String> = synced
            .iter()
            .flat_map(|t| {
                let ty = type_name(&t.name);
                [format!("{ty}Key"), format!("{ty}Row")]
            })
            .collect();
        out.push_str(&format!("\nimport type {{ {} }} from \"./rows.js\";\n", imports.join(", ")));
    }

    out.push_str("\n/** The wire row and primary key of every synced table, by table name. */\n");
    out.push_str(&format!("export interface {SYNC_TABLES_TYPE} {{\n"));
    for table in &synced {
        let ty = type_name(&table.name);
        out.push_str(&format!("  {}: {{ row: {ty}Row; key: {ty}Key }};\n", table.name));
    }
    out.push_str("}\n");

    for set in Tables::ALL {
        let names =
            Lit::strs(schema.tables.iter().filter(|t| set.contains(t)).map(|t| t.name.as_str()));
        let (constant, ty, doc) = set_names(set);
        out.push_str(&format!("\n/** {doc} */\n"));
        out.push_str(&names.dts_const(constant));
        js.push_str(&format!("\n/** {doc} */\n"));
        js.push_str(&names.js_const(constant));
        out.push_str(&format!("export type {ty} = (typeof {constant})[number];\n"));
    }

    for message in MESSAGES {
        out.push('\n');
        doc_comment(&mut out, "", Some(message.doc));
        let name = message.name;
        match message.shape {
            Shape::Struct(fields) => {
                out.push_str(&format!("export interface {name} {{\n"));
                write_fields(&mut out, "  ", fields);
                out.push_str("}\n");
            }
            Shape::PerTable(set, fields) => {
                let (_, tables, _) = set_names(set);
                out.push_str(&format!(
                    "export type {name}<T extends {tables} = {tables}> = {{\n  [K in T]: {{\n"
                ));
                write_fields(&mut out, "    ", fields);
                out.push_str("  };\n}[T];\n");
            }
            Shape::Union(members) => {
                out.push_str(&format!("export type {name} = {};\n", members.join(" | ")));
            }
            Shape::Enum(values) => {
                let values: Vec<String> = values.iter().map(|v| string_lit(v)).collect();
                let line = format!("export type {name} = {};\n", values.join(" | "));
                if line.len() <= MAX_LINE {
                    out.push_str(&line);
                } else {
                    let lines: String = values.iter().map(|v| format!("\n  | {v}")).collect();
                    out.push_str(&format!("export type {name} ={lines};\n"));
                }
            }
        }
    }
    (js, out)
}

fn write_fields(out: &mut String, indent: &str, fields: &[Field]) {
    for field in fields {
        doc_comment(out, indent, Some(field.doc));
        let optional = if field.optional { "?" } else { "" };
        out.push_str(&format!("{indent}{}{optional}: {};\n", field.name, wire_type(&field.ty)));
    }
}

/// The TypeScript type of a wire type; `K` is the table of a per-table message.
fn wire_type(ty: &Wire) -> String {
    match ty {
        Wire::String | Wire::Uuid | Wire::Timestamp => "string".into(),
        Wire::Integer => "number".into(),
        Wire::Boolean => "boolean".into(),
        Wire::Tag(tag) => string_lit(tag),
        Wire::True => "true".into(),
        Wire::Nullable(inner) => format!("{} | null", wire_type(inner)),
        Wire::List(inner) => match wire_type(inner) {
            simple if !simple.contains(' ') => format!("{simple}[]"),
            compound => format!("({compound})[]"),
        },
        Wire::Message(name) => (*name).into(),
        Wire::Object => "Record<string, unknown>".into(),
        Wire::TableName => "K".into(),
        Wire::Row => format!("{SYNC_TABLES_TYPE}[K][\"row\"]"),
        Wire::Key => format!("{SYNC_TABLES_TYPE}[K][\"key\"]"),
    }
}
