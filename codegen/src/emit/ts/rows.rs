//! `src/rows.ts`: per table the wire row (`TuneRow`, snake_case, as JSON carries it), the
//! client object (`Tune`, camelCase), the primary key (`TuneKey`), enum unions, and converters
//! written out field by field, so converting costs no regex or generic case mapping at runtime.

use super::{column_type, constant_key, doc_comment, enum_type, field_name, header, type_name};
use crate::ir::{Schema, Table};

pub(super) fn emit(schema: &Schema) -> String {
    let mut out = header();
    if schema.tables.iter().any(|t| t.columns.iter().any(|c| c.values.is_some())) {
        out.push_str("\nimport type { VALUES } from \"./db-constants.js\";\n");
    }
    for table in &schema.tables {
        table_types(&mut out, table);
    }
    out
}

fn table_types(out: &mut String, table: &Table) {
    let ty = type_name(&table.name);
    for column in table.columns.iter().filter(|c| c.values.is_some()) {
        out.push('\n');
        doc_comment(out, "", column.comment.as_deref());
        out.push_str(&format!(
            "export type {} = (typeof VALUES.{}.{})[number];\n",
            enum_type(table, column),
            table.name,
            constant_key(&column.name)
        ));
    }

    out.push('\n');
    doc_comment(out, "", Some(&format!("A `{}` row as stored and sent on the wire.", table.name)));
    out.push_str(&format!("export interface {ty}Row {{\n"));
    for column in &table.columns {
        doc_comment(out, "  ", column.comment.as_deref());
        out.push_str(&format!("  {}: {};\n", column.name, column_type(table, column)));
    }
    out.push_str("}\n\n");

    doc_comment(out, "", table.comment.as_deref());
    out.push_str(&format!("export interface {ty} {{\n"));
    for column in &table.columns {
        doc_comment(out, "  ", column.comment.as_deref());
        out.push_str(&format!("  {}: {};\n", field_name(&column.name), column_type(table, column)));
    }
    out.push_str("}\n\n");

    out.push_str(&format!("/** The primary key of a `{}` row. */\n", table.name));
    out.push_str(&format!("export interface {ty}Key {{\n"));
    for name in &table.primary_key.columns {
        let column = table.column(name).expect("validated: primary key columns exist");
        out.push_str(&format!("  {}: {};\n", column.name, column_type(table, column)));
    }
    out.push_str("}\n");

    let var = field_name(&table.name);
    out.push_str(&format!("\nexport function {var}FromRow(row: {ty}Row): {ty} {{\n  return {{\n"));
    for column in &table.columns {
        out.push_str(&format!("    {}: row.{},\n", field_name(&column.name), column.name));
    }
    out.push_str("  };\n}\n");
    out.push_str(&format!("\nexport function {var}ToRow(value: {ty}): {ty}Row {{\n  return {{\n"));
    for column in &table.columns {
        out.push_str(&format!("    {}: value.{},\n", column.name, field_name(&column.name)));
    }
    out.push_str("  };\n}\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each converter names every column once, in both directions.
    #[test]
    fn converters_cover_every_column() {
        let schema = crate::load("schema.toml", include_str!("../../../../schema.toml")).unwrap();
        let text = emit(&schema);
        for table in &schema.tables {
            let var = field_name(&table.name);
            for (name, line) in
                [("FromRow", "    {camel}: row.{snake},"), ("ToRow", "    {snake}: value.{camel},")]
            {
                let start = text.find(&format!("function {var}{name}(")).expect("converter exists");
                let body = &text[start..start + text[start..].find("\n}\n").unwrap()];
                for column in &table.columns {
                    let expected = line
                        .replace("{camel}", &field_name(&column.name))
                        .replace("{snake}", &column.name);
                    assert_eq!(body.matches(&expected).count(), 1, "{var}{name}: {expected}");
                }
                assert_eq!(
                    body.lines().filter(|l| l.starts_with("    ")).count(),
                    table.columns.len()
                );
            }
        }
    }
}
