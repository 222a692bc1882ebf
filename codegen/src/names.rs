//! The names the generated TypeScript package gives whatever the schema says, and the rule that
//! turns a table's name into its Drizzle constant: the TypeScript emitter writes them and
//! validation refuses tables whose names would clash with them.

use heck::ToLowerCamelCase;

use crate::protocol::Tables;

/// The union of every table name, in `db-constants.ts`.
pub(crate) const TABLE_NAME_TYPE: &str = "TableName";
/// The row and key type of every synced table by name, in `sync-types.ts`.
pub(crate) const SYNC_TABLES_TYPE: &str = "SyncTables";

/// The interface of `storedConverters`' entries, in `rows.d.ts`.
pub(crate) const STORED_CONVERTER_TYPE: &str = "StoredConverter";

/// Type names the package declares whatever the schema, besides the protocol's messages. No
/// table or enum type may take one: `index.js` re-exports every module with `export *`, which
/// refuses a name that two modules export.
pub(crate) fn fixed_type_names() -> impl Iterator<Item = &'static str> {
    [TABLE_NAME_TYPE, SYNC_TABLES_TYPE, STORED_CONVERTER_TYPE]
        .into_iter()
        .chain(Tables::ALL.map(|set| set_names(set).1))
}

/// The constant, the type and the doc of a table set.
pub(crate) fn set_names(set: Tables) -> (&'static str, &'static str, &'static str) {
    match set {
        Tables::Synced => {
            ("SYNCED_TABLES", "SyncedTableName", "Every synced table: what a client may pull.")
        }
        Tables::Writable => (
            "WRITABLE_TABLES",
            "WritableTableName",
            "Tables a client may push to (not catalogs, not server-only tables).",
        ),
        Tables::Deletable => (
            "DELETABLE_TABLES",
            "DeletableTableName",
            "Writable tables whose rows clients delete (soft, or hard with `deletes = \"hard\"`); the others refuse client deletes.",
        ),
    }
}

/// `user_id` -> `userId`: client-side field names.
pub(crate) fn field_name(name: &str) -> String {
    name.to_lower_camel_case()
}

/// Names of a Drizzle schema's own scope that a table constant must not shadow, besides keywords. `t`
/// is the parameter of every table's extra-config callback: a table constant `t` would be
/// shadowed there, and another table's foreign key to it would silently point at its own columns.
const TAKEN: &[&str] = &[
    "t",
    "COL",
    "TBL",
    "VALUES",
    "sql",
    "crypto",
    "intBoolean",
    "jsonText",
    "sqliteTable",
    "pgTable",
    "text",
    "integer",
    "real",
    "uuid",
    "bigint",
    "doublePrecision",
    "boolean",
    "timestamp",
    "date",
    "jsonb",
    "customType",
    "primaryKey",
    "foreignKey",
    "unique",
    "index",
    "uniqueIndex",
    "check",
];

/// Words TypeScript does not allow as a `const` name.
const KEYWORDS: &[&str] = &[
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "import",
    "in",
    "instanceof",
    "new",
    "null",
    "return",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "implements",
    "interface",
    "let",
    "package",
    "private",
    "protected",
    "public",
    "static",
    "yield",
    "await",
    "arguments",
    "eval",
];

/// The exported constant of a table: `repertoireTune`, or `indexTable` where the plain name
/// would be a keyword or shadow an import. Validation makes sure that no two tables get the
/// same constant (`index` and `index_table` would).
pub(crate) fn table_var(name: &str) -> String {
    let var = field_name(name);
    if TAKEN.contains(&var.as_str()) || KEYWORDS.contains(&var.as_str()) {
        format!("{var}Table")
    } else {
        var
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{LogicalType, TimestampStorage};
    use crate::types::{self, DrizzleBuilder};

    /// A table constant named like a column builder would shadow the builder's import.
    #[test]
    fn table_constants_never_shadow_a_builder_of_the_type_table() {
        for ty in LogicalType::ALL {
            let entry = types::entry(ty);
            let pg = std::iter::once(entry.postgres)
                .chain(entry.postgres_overrides.iter().map(|(_, pg)| *pg))
                .chain(entry.stored_as.map(|s| s.postgres))
                .map(|pg| pg.drizzle.builder);
            let sqlite = TimestampStorage::ALL
                .map(|timestamps| DrizzleBuilder::Core(entry.sqlite.drizzle(timestamps)));
            for builder in pg.chain(sqlite) {
                assert_ne!(table_var(builder.name()), builder.name(), "{}", ty.as_str());
            }
        }
    }
}
