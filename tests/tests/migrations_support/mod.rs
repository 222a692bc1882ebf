//! What the migration tests read back: the rows of the kept columns, a SQLite catalog, and the
//! Postgres catalog with column positions counted among the schema's own columns.

use std::collections::BTreeMap;

use codegen::ir::Schema;
use integration_tests::pg::TestDb;
use rusqlite::Connection;

/// Parents and children, with a NULL in a nullable column, as SQL both databases run.
pub fn fill() -> String {
    "INSERT INTO \"author\" (\"id\", \"user_id\", \"name\", \"born\") VALUES \
       (1, 'u1', 'Ann', 1950), (2, 'u1', 'Bob', NULL), (3, 'u2', 'Cy', 1990);\n\
     INSERT INTO \"book\" (\"id\", \"author_id\", \"title\", \"pages\") VALUES \
       (1, 1, 'Alpha', 100), (2, 1, 'Beta', 200), (3, 2, 'Gamma', 300), (4, 3, 'Delta', 400);\n"
        .into()
}

/// Every row of every table both versions have, as text, by table: the columns both versions
/// have, in primary key order.
fn row_queries(old: &Schema, new: &Schema, cast: fn(&str) -> String) -> Vec<(String, String)> {
    old.tables
        .iter()
        .filter_map(|table| {
            let now = new.table(&table.name)?;
            let columns: Vec<String> = table
                .columns
                .iter()
                .filter(|c| now.column(&c.name).is_some())
                .map(|c| cast(&format!("\"{}\"", c.name)))
                .collect();
            let key: Vec<String> =
                table.primary_key.columns.iter().map(|c| format!("\"{c}\"")).collect();
            let sql = format!(
                "SELECT {} FROM \"{}\" ORDER BY {}",
                columns.join(" || '|' || "),
                table.name,
                key.join(", ")
            );
            Some((table.name.clone(), sql))
        })
        .collect()
}

pub fn sqlite_rows(db: &Connection, old: &Schema, new: &Schema) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    let queries = row_queries(old, new, |c| format!("coalesce(CAST({c} AS TEXT), 'NULL')"));
    for (table, sql) in queries {
        let mut stmt = db.prepare(&sql).unwrap();
        let rows = stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
        out.insert(table, rows);
    }
    // The client's pending writes are rows too: a migration must keep every outbox entry.
    let mut stmt = db
        .prepare("SELECT table_name || key || seq FROM _sync_outbox ORDER BY table_name, key")
        .unwrap();
    let outbox = stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    out.insert("_sync_outbox".into(), outbox);
    out
}

pub fn pg_rows(db: &mut TestDb, old: &Schema, new: &Schema) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for (table, sql) in row_queries(old, new, |c| format!("coalesce({c}::text, 'NULL')")) {
        let rows = db.query(sql.as_str(), &[]).unwrap().iter().map(|r| r.get(0)).collect();
        out.insert(table, rows);
    }
    out
}

/// Postgres puts an added column after the sync cursor column and leaves a gap where a column
/// was dropped; what counts is the order of the schema's own columns, so each `column` line's
/// position becomes its rank within its table.
pub fn renumbered(lines: Vec<String>) -> Vec<String> {
    let mut rank: BTreeMap<String, usize> = BTreeMap::new();
    lines
        .into_iter()
        .map(|line| {
            let Some(rest) = line.strip_prefix("column ") else { return line };
            let (table, rest) = rest.split_once('.').expect("column lines name the table");
            let (_, rest) = rest.split_once(' ').expect("and the position");
            let n = rank.entry(table.to_owned()).or_default();
            *n += 1;
            format!("column {table}.{n:03} {rest}")
        })
        .collect()
}

/// One sorted line per table, column, foreign key, index, named constraint, CHECK and trigger
/// of a SQLite database, machinery included, as the pragmas and the stored SQL give them.
pub fn sqlite_catalog(db: &Connection) -> Vec<String> {
    let strings = |sql: &str| -> Vec<Vec<String>> {
        let mut stmt = db.prepare(sql).unwrap_or_else(|e| panic!("{e}: {sql}"));
        let n = stmt.column_count();
        stmt.query_map([], |r| {
            (0..n)
                .map(|i| {
                    let v: rusqlite::types::Value = r.get(i)?;
                    Ok(format!("{v:?}"))
                })
                .collect::<Result<Vec<String>, _>>()
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    };
    let mut lines = Vec::new();
    let tables: Vec<(String, String)> = {
        let mut stmt = db
            .prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite%'")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
    };
    for (table, sql) in &tables {
        lines.push(format!("table {table}"));
        for c in strings(&format!(
            "SELECT cid, name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo('{table}')"
        )) {
            lines.push(format!("column {table} {}", c.join(" ")));
        }
        for fk in strings(&format!(
            "SELECT id, seq, \"table\", \"from\", \"to\", on_update, on_delete FROM pragma_foreign_key_list('{table}')"
        )) {
            lines.push(format!("fk {table} {}", fk.join(" ")));
        }
        let indexes: Vec<(String, String)> = {
            let sql = format!(
                "SELECT name, \"unique\" || ' ' || origin || ' ' || partial FROM pragma_index_list('{table}')"
            );
            let mut stmt = db.prepare(&sql).unwrap();
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        for (name, how) in indexes {
            let columns = strings(&format!(
                "SELECT seqno, name, \"desc\", key FROM pragma_index_xinfo('{name}')"
            ));
            // Automatic indexes are named after the table they were made for.
            let shown = if name.starts_with("sqlite_autoindex") { "(auto)" } else { &name };
            lines.push(format!("index {table} {shown} {how} {columns:?}"));
        }
        for name in between(sql, "CONSTRAINT \"", "\"") {
            lines.push(format!("constraint {table} {name}"));
        }
        for check in checks(sql) {
            lines.push(format!("check {table} {check}"));
        }
    }
    for row in strings(
        "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE type IN ('index', 'trigger') AND sql IS NOT NULL",
    ) {
        lines.push(format!("sql {}", row.join(" ")));
    }
    lines.sort();
    lines
}

/// Every text between `start` and the next `end`.
fn between<'a>(text: &'a str, start: &str, end: &str) -> Vec<&'a str> {
    text.split(start).skip(1).filter_map(|rest| rest.split(end).next()).collect()
}

/// The parenthesised condition of every CHECK in a table's SQL.
fn checks(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (at, _) in sql.match_indices("CHECK (") {
        let rest = &sql[at + "CHECK ".len()..];
        let mut depth = 0;
        for (i, ch) in rest.char_indices() {
            depth += match ch {
                '(' => 1,
                ')' => -1,
                _ => 0,
            };
            if depth == 0 {
                out.push(rest[..=i].to_owned());
                break;
            }
        }
    }
    out.sort();
    out
}
