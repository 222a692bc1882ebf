//! `src/sync-meta.js` and `.d.ts`: the schema's sync metadata as plain data for the TypeScript
//! client (`syncSchema`), the device's SQLite DDL (`sqliteSchemaSql`) and its migration scripts
//! (`sqliteMigrations`). The metadata is
//! [`crate::meta::schema_meta`], the translation the Rust runtime reads, with each column's
//! SQLite storage class from the type table; nothing here restates what a table means.

use sync_meta::schema::{ColumnMeta, Deletes, Scope, TableMeta};

use super::literal::Lit;
use super::{header, template_text};
use crate::emit::SqliteMigration;
use crate::ir::Schema;
use crate::types;

const SCHEMA_DOC: &str = "/**
 * How the schema takes part in sync, for the TypeScript client: every table synced to devices
 * (parents before children) with its scope, key, bookkeeping columns, and each column's logical
 * type (docs/types.md) and SQLite storage class.
 */
";

const DDL_DOC: &str =
    "/** The device's SQLite DDL (generated/sql/sqlite.sql), to create a new database. */\n";

const MIGRATIONS_DOC: &str = "/**
 * The device's SQLite migration scripts (generated/migrations/*.sqlite.sql), by version: the
 * client runs those above a database's version on open (`migrations: sqliteMigrations`).
 */
";

/// The module's JavaScript and its declarations; `migrations` are sorted by version.
pub(super) fn emit(schema: &Schema, migrations: &[SqliteMigration]) -> (String, String) {
    let meta = crate::meta::schema_meta(schema);
    let timestamps = meta.timestamp_storage;
    let tables = meta
        .tables
        .iter()
        .filter(|t| t.is_synced() && t.targets.sqlite)
        .map(|t| table(t, |c| types::sqlite_storage(c.ty, timestamps)))
        .collect();
    let value = Lit::obj([
        ("name", Lit::str(meta.name)),
        ("version", Lit::num(meta.version)),
        ("minClientVersion", Lit::num(meta.min_client_version)),
        ("timestampStorage", Lit::str(timestamps.as_str())),
        ("tables", Lit::List(tables)),
    ]);
    let ddl = crate::emit::sql::sqlite(schema);

    let mut js = header();
    js.push('\n');
    js.push_str(SCHEMA_DOC);
    js.push_str(&value.js_const("syncSchema"));
    js.push('\n');
    js.push_str(DDL_DOC);
    js.push_str(&format!("export const sqliteSchemaSql = `{}`;\n", template_text(&ddl)));
    js.push('\n');
    js.push_str(MIGRATIONS_DOC);
    js.push_str("export const sqliteMigrations = [");
    for m in migrations {
        js.push_str(&format!(
            "\n  {{ version: {}, sql: `{}` }},",
            m.version,
            template_text(&m.sql)
        ));
    }
    js.push_str(if migrations.is_empty() { "];\n" } else { "\n];\n" });

    let mut dts = header();
    dts.push('\n');
    dts.push_str(SCHEMA_DOC);
    dts.push_str(&value.dts_const("syncSchema"));
    dts.push('\n');
    dts.push_str(DDL_DOC);
    dts.push_str("export declare const sqliteSchemaSql: string;\n");
    dts.push('\n');
    dts.push_str(MIGRATIONS_DOC);
    dts.push_str(
        "export declare const sqliteMigrations: readonly { readonly version: number; readonly sql: string }[];\n",
    );
    (js, dts)
}

fn table(table: &TableMeta, storage: impl Fn(&ColumnMeta) -> &'static str) -> Lit {
    let (scope, via) = match table.scope {
        Scope::Owner => ("owner", Lit::Null),
        Scope::OwnerOrPublic => ("owner_or_public", Lit::Null),
        Scope::Public => ("public", Lit::Null),
        Scope::Via { column, parent_table } => {
            ("via", Lit::obj([("column", Lit::str(column)), ("parent", Lit::str(parent_table))]))
        }
        Scope::None => unreachable!("only synced tables are listed"),
    };
    let sync = &table.sync;
    let columns = table
        .columns
        .iter()
        .map(|c| {
            Lit::obj([
                ("name", Lit::str(c.name)),
                ("type", Lit::str(c.ty.as_str())),
                ("nullable", Lit::Bool(c.nullable)),
                ("hasDefault", Lit::Bool(c.has_default)),
                ("sqlite", Lit::str(storage(c))),
            ])
        })
        .collect();
    Lit::obj([
        ("name", Lit::str(table.name)),
        ("scope", Lit::str(scope)),
        ("via", via),
        // Catalogs are the server's: the client never pushes them.
        ("writable", Lit::Bool(table.scope != Scope::Public)),
        ("deletes", Lit::str(deletes(table.deletes))),
        ("primaryKey", Lit::strs(table.primary_key.iter().copied())),
        ("owner", Lit::opt_str(sync.owner)),
        ("modified", Lit::opt_str(sync.modified)),
        ("deleted", Lit::opt_str(sync.deleted)),
        ("version", Lit::opt_str(sync.version)),
        ("device", Lit::opt_str(sync.device)),
        ("columns", Lit::List(columns)),
    ])
}

/// What a client's delete of a row does: `soft` (the deleted column), `hard` or `none`.
fn deletes(deletes: Deletes) -> &'static str {
    match deletes {
        Deletes::Soft => "soft",
        Deletes::Hard => "hard",
        Deletes::Never => "none",
    }
}
