//! `src/rows.js` and `.d.ts`: per table the wire row (`TuneRow`: snake_case, what the sync
//! protocol carries), the stored row (`TuneStored`: what the device's SQLite database holds),
//! the app's object (`Tune`, camelCase), the primary key (`TuneKey`), enum unions, and the
//! converters between them, written out field by field. How a stored value differs from the
//! wire's comes from the type table ([`types::SqliteValue`]), so no converter restates it.

use super::{column_type, constant_key, doc_comment, enum_type, field_name, header, type_name};
use crate::ir::{Column, Schema, Table};
use crate::names::STORED_CONVERTER_TYPE;
use crate::types::{self, TsStoredForm};

/// The module's JavaScript and its declarations.
pub(super) fn emit(schema: &Schema) -> (String, String) {
    let mut js = header();
    let mut dts = header();
    if schema.tables.iter().any(|t| t.columns.iter().any(|c| c.values.is_some())) {
        dts.push_str("\nimport type { VALUES } from \"./db-constants.js\";\n");
    }
    dts.push_str(&format!(
        "\n/** Both conversions between a table's wire row and its stored row. */
export interface {STORED_CONVERTER_TYPE}<Row, Stored> {{
  toStored(row: Row): Stored;
  fromStored(stored: Stored): Row;
}}\n"
    ));
    for table in &schema.tables {
        declarations(&mut dts, schema, table);
        converters(&mut js, schema, table);
    }
    let device_tables = schema.tables.iter().filter(|t| t.targets.sqlite);
    dts.push_str("\n/** The stored-row converters of every table the device's database has, by table name. */\n");
    dts.push_str("export declare const storedConverters: {\n");
    js.push_str("\nexport const storedConverters = {\n");
    for table in device_tables {
        let (ty, var) = (type_name(&table.name), field_name(&table.name));
        dts.push_str(&format!(
            "  readonly {}: {STORED_CONVERTER_TYPE}<{ty}Row, {ty}Stored>;\n",
            table.name
        ));
        js.push_str(&format!(
            "  {}: {{ toStored: {var}ToStored, fromStored: {var}FromStored }},\n",
            table.name
        ));
    }
    dts.push_str("};\n");
    js.push_str("};\n");
    (js, dts)
}

/// How a column's value is stored in SQLite, when that differs from the wire.
fn stored_form(schema: &Schema, column: &Column) -> Option<TsStoredForm> {
    types::entry(column.ty).sqlite_value.typescript(schema.timestamp_storage)
}

/// The TypeScript type of a column in the stored row.
fn stored_type(schema: &Schema, table: &Table, column: &Column) -> String {
    match stored_form(schema, column) {
        None => column_type(table, column),
        Some(form) if column.nullable => format!("{} | null", form.ty),
        Some(form) => form.ty.into(),
    }
}

/// `value` converted by `template` (`$` is the value); null stays null in a nullable column.
fn convert(template: &str, value: &str, nullable: bool) -> String {
    let expr = template.replace('$', value);
    if nullable && expr != value { format!("{value} === null ? null : {expr}") } else { expr }
}

fn declarations(out: &mut String, schema: &Schema, table: &Table) {
    let ty = type_name(&table.name);
    let var = field_name(&table.name);
    let name = &table.name;
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

    let interface = |out: &mut String,
                     doc: &str,
                     type_name: String,
                     field: &dyn Fn(&Column) -> (String, String)| {
        out.push('\n');
        doc_comment(out, "", Some(doc));
        out.push_str(&format!("export interface {type_name} {{\n"));
        for column in &table.columns {
            doc_comment(out, "  ", column.comment.as_deref());
            let (name, ty) = field(column);
            out.push_str(&format!("  {name}: {ty};\n"));
        }
        out.push_str("}\n");
    };
    interface(
        out,
        &format!(
            "A `{name}` row on the wire: what the sync protocol carries, with booleans, parsed JSON\nand timestamps as RFC 3339 text. `{var}ToStored` gives the row SQLite holds."
        ),
        format!("{ty}Row"),
        &|c| (c.name.clone(), column_type(table, c)),
    );
    interface(
        out,
        &format!(
            "A `{name}` row as the device's SQLite database holds it and a raw query returns it:\nbooleans as 0/1, JSON as text, timestamps as {} (docs/types.md).\n`{var}FromStored` gives the wire row.",
            match schema.timestamp_storage {
                crate::ir::TimestampStorage::Text => "RFC 3339 text",
                crate::ir::TimestampStorage::Integer => "milliseconds since the Unix epoch",
            }
        ),
        format!("{ty}Stored"),
        &|c| (c.name.clone(), stored_type(schema, table, c)),
    );
    let doc = match table.comment.as_deref() {
        Some(comment) => {
            format!("{comment}\n\nThe wire row with camelCase fields (`{var}FromRow`).")
        }
        None => format!("A `{name}` row with camelCase fields (`{var}FromRow`)."),
    };
    interface(out, &doc, ty.clone(), &|c| (field_name(&c.name), column_type(table, c)));

    out.push_str(&format!("\n/** The primary key of a `{name}` row. */\n"));
    out.push_str(&format!("export interface {ty}Key {{\n"));
    for key in &table.primary_key.columns {
        let column = table.column(key).expect("validated: primary key columns exist");
        out.push_str(&format!("  {}: {};\n", column.name, column_type(table, column)));
    }
    out.push_str("}\n\n");
    out.push_str(&format!("export declare function {var}FromRow(row: {ty}Row): {ty};\n"));
    out.push_str(&format!("export declare function {var}ToRow(value: {ty}): {ty}Row;\n"));
    out.push_str(&format!("export declare function {var}ToStored(row: {ty}Row): {ty}Stored;\n"));
    out.push_str(&format!(
        "export declare function {var}FromStored(stored: {ty}Stored): {ty}Row;\n"
    ));
}

fn converters(out: &mut String, schema: &Schema, table: &Table) {
    let var = field_name(&table.name);
    let mut function = |name: &str, param: &str, field: &dyn Fn(&Column) -> (String, String)| {
        out.push_str(&format!("\nexport function {var}{name}({param}) {{\n  return {{\n"));
        for column in &table.columns {
            let (key, value) = field(column);
            out.push_str(&format!("    {key}: {value},\n"));
        }
        out.push_str("  };\n}\n");
    };
    function("FromRow", "row", &|c| (field_name(&c.name), format!("row.{}", c.name)));
    function("ToRow", "value", &|c| (c.name.clone(), format!("value.{}", field_name(&c.name))));
    let stored = |c: &Column, param: &str, pick: fn(&TsStoredForm) -> &'static str| {
        let value = format!("{param}.{}", c.name);
        match stored_form(schema, c) {
            Some(form) => convert(pick(&form), &value, c.nullable),
            None => value,
        }
    };
    function("ToStored", "row", &|c| (c.name.clone(), stored(c, "row", |f| f.to_stored)));
    function("FromStored", "stored", &|c| (c.name.clone(), stored(c, "stored", |f| f.from_stored)));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each converter names every column once, in every direction.
    #[test]
    fn converters_cover_every_column() {
        let schema = crate::load("schema.toml", include_str!("../../../../schema.toml")).unwrap();
        let (js, _) = emit(&schema);
        for table in &schema.tables {
            let var = field_name(&table.name);
            for (name, key) in
                [("FromRow", true), ("ToRow", false), ("ToStored", false), ("FromStored", false)]
            {
                let start = js.find(&format!("function {var}{name}(")).expect("converter exists");
                let body = &js[start..start + js[start..].find("\n}\n").unwrap()];
                for column in &table.columns {
                    let field = if key { field_name(&column.name) } else { column.name.clone() };
                    let line = format!("    {field}: ");
                    assert_eq!(body.matches(&line).count(), 1, "{var}{name}: {field}");
                }
                assert_eq!(
                    body.lines().filter(|l| l.starts_with("    ")).count(),
                    table.columns.len()
                );
            }
        }
    }

    #[test]
    fn stored_rows_follow_the_type_table() {
        let schema = crate::load("schema.toml", include_str!("../../../../schema.toml")).unwrap();
        let (js, dts) = emit(&schema);
        assert!(js.contains("    deleted: row.deleted ? 1 : 0,\n"));
        assert!(js.contains("    deleted: stored.deleted !== 0,\n"));
        assert!(js.contains("    settings: JSON.stringify(row.settings),\n"));
        assert!(
            js.contains("    due: row.due === null ? null : new Date(row.due).toISOString(),\n")
        );
        let stored = &dts[dts.find("export interface TuneStored").unwrap()..];
        assert!(stored[..stored.find("\n}\n").unwrap()].contains("  deleted: number;\n"));
    }
}
