//! The TypeScript package in `generated/ts`: constants, row types and converters, protocol
//! types and Drizzle schemas, plus the names and type mapping those emitters share.

mod constants;
mod drizzle;
mod literal;
mod package;
mod rows;
mod sync_meta;
mod sync_types;

use heck::{ToShoutySnakeCase, ToUpperCamelCase};

use crate::GENERATED_NOTICE;
use crate::emit::{Files, SqliteMigration};
use crate::ir::{Column, LogicalType, Schema, Table};
use crate::names::{SYNC_TABLES_TYPE, TABLE_NAME_TYPE, field_name};
use crate::types;

/// Every file of the package, by path relative to `generated/`: each module as JavaScript with
/// its declarations next to it, as a published package ships them (docs/types.md). `sync-meta`
/// carries the `migrations`, sorted by version.
pub(super) fn files(schema: &Schema, migrations: &[SqliteMigration]) -> Files {
    let index = package::index_ts();
    let modules = [
        ("index", (index.clone(), index)),
        ("db-constants", constants::emit(schema)),
        ("rows", rows::emit(schema)),
        ("sync-types", sync_types::emit(schema)),
        ("sync-meta", sync_meta::emit(schema, migrations)),
        ("drizzle/sqlite", drizzle::sqlite::emit(schema)),
        ("drizzle/pg", drizzle::pg::emit(schema)),
    ];
    let mut files = Files::from([
        ("ts/package.json".into(), package::package_json(schema)),
        ("ts/tsconfig.json".into(), package::tsconfig_json()),
    ]);
    for (module, (js, dts)) in modules {
        files.insert(format!("ts/src/{module}.js"), js);
        files.insert(format!("ts/src/{module}.d.ts"), dts);
    }
    files
}

/// The notice every generated TypeScript file starts with.
fn header() -> String {
    format!("// {GENERATED_NOTICE}\n")
}

/// `tune` -> `TUNE`: keys of `TBL` and `COL.<table>`.
fn constant_key(name: &str) -> String {
    name.to_shouty_snake_case()
}

/// `repertoire_tune` -> `RepertoireTune`: the stem of a table's type names.
fn type_name(name: &str) -> String {
    name.to_upper_camel_case()
}

/// The union type of a `values` column: `TuneType` for `tune.type`.
fn enum_type(table: &Table, column: &Column) -> String {
    format!("{}{}", type_name(&table.name), type_name(&column.name))
}

/// A TypeScript string literal. JSON's string syntax is a subset of TypeScript's.
fn string_lit(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

/// Text safe inside a tagged template such as sql`...`: backslashes, backticks and `${`
/// would otherwise end the literal or start an interpolation.
fn template_text(s: &str) -> String {
    s.replace('\\', "\\\\").replace('`', "\\`").replace("${", "\\${")
}

/// A column's TypeScript type on the wire and in the client (docs/types.md).
fn column_type(table: &Table, column: &Column) -> String {
    let base = value_type(table, column);
    // `unknown` already includes null.
    if column.nullable && column.ty != LogicalType::Json { format!("{base} | null") } else { base }
}

/// The TypeScript type of a column's non-null values: an enum's union type, else the type
/// table's.
pub(crate) fn value_type(table: &Table, column: &Column) -> String {
    if column.values.is_some() {
        enum_type(table, column)
    } else {
        types::entry(column.ty).typescript.into()
    }
}

/// Writes a `/** ... */` doc comment at `indent` when there is something to say.
fn doc_comment(out: &mut String, indent: &str, text: Option<&str>) {
    let Some(text) = text.filter(|t| !t.is_empty()) else { return };
    // `*/` inside a comment would end it early.
    let text = text.replace("*/", "*\\/");
    let mut lines = text.lines();
    match (lines.next(), lines.next()) {
        (Some(only), None) => out.push_str(&format!("{indent}/** {only} */\n")),
        _ => {
            out.push_str(&format!("{indent}/**\n"));
            for line in text.lines() {
                out.push_str(&format!("{indent} * {line}\n").replace(" * \n", " *\n"));
            }
            out.push_str(&format!("{indent} */\n"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_text_cannot_escape_the_literal() {
        assert_eq!(template_text(r"a`b${c}\d"), r"a\`b\${c}\\d");
    }

    #[test]
    fn every_file_starts_with_the_notice() {
        let schema = crate::load("schema.toml", include_str!("../../../../schema.toml")).unwrap();
        for (path, text) in files(&schema, &[]) {
            assert!(text.lines().take(2).any(|l| l.contains(GENERATED_NOTICE)), "{path}");
        }
    }
}
