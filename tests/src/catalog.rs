//! A whole Postgres schema read back from the catalog as comparable lines: every table, column
//! (type, nullability, default), constraint (its definition as Postgres prints it), index and
//! comment. Two databases built differently are equal when their snapshots are.
//!
//! The snapshot leaves out the generated sync machinery (every object and column whose name
//! starts with `_sync`, which no name from `schema.toml` can): it is additive, a hand-written
//! legacy schema never has it, and [`sync_machinery`] lists it for the tests that check it.

use postgres::Client;

/// Names of the sync machinery, as a `LIKE` pattern (`\_` is a literal underscore).
const MACHINERY: &str = "'\\_sync%'";

/// One sorted line per catalog object of the `public` schema, the sync machinery left out.
pub fn snapshot(client: &mut Client) -> Vec<String> {
    let queries = [
        // Tables and their comments.
        "SELECT 'table ' || c.relname || coalesce(' -- ' || obj_description(c.oid, 'pg_class'), '')
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname NOT LIKE {MACHINERY}",
        // Columns in order, with type, nullability, default and comment.
        "SELECT 'column ' || c.relname || '.' || lpad(a.attnum::text, 3, '0') || ' ' || a.attname
                || ' ' || format_type(a.atttypid, a.atttypmod)
                || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
                || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
                || coalesce(' -- ' || col_description(c.oid, a.attnum), '')
           FROM pg_attribute a
           JOIN pg_class c ON c.oid = a.attrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
           LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
            AND c.relname NOT LIKE {MACHINERY} AND a.attname NOT LIKE {MACHINERY}",
        // Constraints by name, as Postgres prints their definition.
        "SELECT 'constraint ' || c.relname || '.' || k.conname || ' ' || pg_get_constraintdef(k.oid)
           FROM pg_constraint k
           JOIN pg_class c ON c.oid = k.conrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relname NOT LIKE {MACHINERY}",
        // Indexes by name, with their full definition (columns, order, uniqueness, predicate).
        "SELECT 'index ' || indexname || ' ' || indexdef FROM pg_indexes
          WHERE schemaname = 'public' AND indexname NOT LIKE {MACHINERY}",
    ];
    lines(client, &queries.map(|q| q.replace("{MACHINERY}", MACHINERY)))
}

/// One sorted line per object of the sync machinery in the `public` schema: its tables, the
/// cursor columns, its indexes, triggers and functions.
pub fn sync_machinery(client: &mut Client) -> Vec<String> {
    let queries = [
        "SELECT 'table ' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname LIKE {MACHINERY}",
        "SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
           FROM pg_attribute a
           JOIN pg_class c ON c.oid = a.attrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attname LIKE {MACHINERY}
            AND c.relname NOT LIKE {MACHINERY}",
        "SELECT 'index ' || indexdef FROM pg_indexes
          WHERE schemaname = 'public' AND indexname LIKE {MACHINERY}",
        "SELECT 'trigger ' || pg_get_triggerdef(t.oid) FROM pg_trigger t
           JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND NOT t.tgisinternal AND t.tgname LIKE {MACHINERY}",
        "SELECT 'function ' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
          WHERE n.nspname = 'public' AND p.proname LIKE {MACHINERY}",
    ];
    lines(client, &queries.map(|q| q.replace("{MACHINERY}", MACHINERY)))
}

fn lines(client: &mut Client, queries: &[String]) -> Vec<String> {
    let mut lines = Vec::new();
    for sql in queries {
        for row in client.query(sql.as_str(), &[]).unwrap_or_else(|e| panic!("{e}: {sql}")) {
            lines.push(row.get::<_, String>(0));
        }
    }
    lines.sort();
    lines
}
