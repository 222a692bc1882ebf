//! A whole Postgres schema read back from the catalog as comparable lines: every table, column
//! (type, nullability, default), constraint (its definition as Postgres prints it), index and
//! comment. Two databases built differently are equal when their snapshots are.

use postgres::Client;

/// One sorted line per catalog object of the `public` schema.
pub fn snapshot(client: &mut Client) -> Vec<String> {
    let queries = [
        // Tables and their comments.
        "SELECT 'table ' || c.relname || coalesce(' -- ' || obj_description(c.oid, 'pg_class'), '')
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relkind = 'r'",
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
          WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped",
        // Constraints by name, as Postgres prints their definition.
        "SELECT 'constraint ' || c.relname || '.' || k.conname || ' ' || pg_get_constraintdef(k.oid)
           FROM pg_constraint k
           JOIN pg_class c ON c.oid = k.conrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public'",
        // Indexes by name, with their full definition (columns, order, uniqueness, predicate).
        "SELECT 'index ' || indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = 'public'",
    ];
    let mut lines = Vec::new();
    for sql in queries {
        for row in client.query(sql, &[]).unwrap_or_else(|e| panic!("{e}: {sql}")) {
            lines.push(row.get::<_, String>(0));
        }
    }
    lines.sort();
    lines
}
