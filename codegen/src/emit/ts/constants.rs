//! `src/db-constants.ts`: table and column names (`TBL`, `COL`), the schema's name and version,
//! and the allowed values of enum columns, so no app code spells a name as a bare string.

use super::{TABLE_NAME_TYPE, constant_key, header, string_lit};
use crate::ir::Schema;

pub(super) fn emit(schema: &Schema) -> String {
    let mut out = header();
    out.push_str(&format!("\nexport const SCHEMA_NAME = {} as const;\n", string_lit(&schema.name)));
    out.push_str("/** Sent as `schema_version` in every sync request. */\n");
    out.push_str(&format!("export const SCHEMA_VERSION = {} as const;\n", schema.version));

    out.push_str("\n/** Table names. */\nexport const TBL = {\n");
    for table in &schema.tables {
        out.push_str(&format!("  {}: {},\n", constant_key(&table.name), string_lit(&table.name)));
    }
    out.push_str(&format!(
        "}} as const;\n\nexport type {TABLE_NAME_TYPE} = (typeof TBL)[keyof typeof TBL];\n"
    ));

    out.push_str("\n/** Column names, per table. */\nexport const COL = {\n");
    for table in &schema.tables {
        out.push_str(&format!("  {}: {{\n", table.name));
        for column in &table.columns {
            out.push_str(&format!(
                "    {}: {},\n",
                constant_key(&column.name),
                string_lit(&column.name)
            ));
        }
        out.push_str("  },\n");
    }
    out.push_str("} as const;\n");

    out.push_str("\n/** The allowed values of enum (`values`) columns, per table. */\nexport const VALUES = {\n");
    for table in &schema.tables {
        let enums: Vec<_> =
            table.columns.iter().filter_map(|c| c.values.as_ref().map(|v| (c, v))).collect();
        if enums.is_empty() {
            continue;
        }
        out.push_str(&format!("  {}: {{\n", table.name));
        for (column, values) in enums {
            let list: Vec<String> = values.iter().map(|v| string_lit(v)).collect();
            out.push_str(&format!("    {}: [{}],\n", constant_key(&column.name), list.join(", ")));
        }
        out.push_str("  },\n");
    }
    out.push_str("} as const;\n");
    out
}
