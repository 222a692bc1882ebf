//! `src/db-constants.js` and `.d.ts`: table and column names (`TBL`, `COL`), the schema's name
//! and version, and the allowed values of enum columns, so no app code spells a name as a bare
//! string.

use super::literal::Lit;
use super::{TABLE_NAME_TYPE, constant_key, header};
use crate::ir::Schema;

/// The module's JavaScript and its declarations.
pub(super) fn emit(schema: &Schema) -> (String, String) {
    let tables = schema.tables.iter().map(|t| (constant_key(&t.name), Lit::str(&t.name))).collect();
    let columns = schema
        .tables
        .iter()
        .map(|t| {
            let names = t.columns.iter().map(|c| (constant_key(&c.name), Lit::str(&c.name)));
            (t.name.clone(), Lit::Obj(names.collect()))
        })
        .collect();
    let values = schema
        .tables
        .iter()
        .filter_map(|t| {
            let enums: Vec<(String, Lit)> = t
                .columns
                .iter()
                .filter_map(|c| {
                    let values = c.values.as_ref()?;
                    Some((constant_key(&c.name), Lit::strs(values.iter().map(String::as_str))))
                })
                .collect();
            (!enums.is_empty()).then(|| (t.name.clone(), Lit::Obj(enums)))
        })
        .collect();
    let constants = [
        (None, "SCHEMA_NAME", Lit::str(&schema.name)),
        (
            Some("Sent as `schema_version` in every sync request."),
            "SCHEMA_VERSION",
            Lit::num(schema.version),
        ),
        (Some("Table names."), "TBL", Lit::Obj(tables)),
        (Some("Column names, per table."), "COL", Lit::Obj(columns)),
        (
            Some("The allowed values of enum (`values`) columns, per table."),
            "VALUES",
            Lit::Obj(values),
        ),
    ];

    let (mut js, mut dts) = (header(), header());
    for (doc, name, value) in &constants {
        let doc = doc.map(|d| format!("/** {d} */\n")).unwrap_or_default();
        let gap = if *name == "SCHEMA_VERSION" { "" } else { "\n" };
        js.push_str(&format!("{gap}{doc}{}", value.js_const(name)));
        dts.push_str(&format!("{gap}{doc}{}", value.dts_const(name)));
        if *name == "TBL" {
            dts.push_str(&format!(
                "\nexport type {TABLE_NAME_TYPE} = (typeof TBL)[keyof typeof TBL];\n"
            ));
        }
    }
    (js, dts)
}
