//! SQLite: the live file's catalog (opened read-only) and the one the generated DDL makes in an
//! in-memory database, read through `PRAGMA table_xinfo`, `index_list`, `index_xinfo`,
//! `foreign_key_list` and `sqlite_master`. The generated DDL is the embedded sync server's
//! (`sqlite-server.sql`) for a file that has its machinery, the devices' (`sqlite.sql`) otherwise,
//! so that each is compared with its own `[extra_sql]`.
//!
//! The sync machinery is left out on both sides: every table, column, index, check and trigger
//! whose name starts with `_sync`. A device's database carries the client machinery of
//! `sqlite.sql`, the embedded server's its own `_sync_seq` columns and tombstones instead; both
//! are right for their database, and `schema.toml` declares neither. Views and the other
//! triggers are the team's (`[extra_sql]`): compared by their SQL as `sqlite_master` keeps it.

use std::path::Path;

use codegen::Files;
use codegen::ir::ExtraTarget;
use rusqlite::{Connection, OpenFlags};

use super::LiveError;
use super::catalog::{Catalog, Column, ForeignKey, Table, Unique, squeeze};
use super::sqlite_text::{checks, constraint_names};

/// Whether a name belongs to the sync machinery (names in `schema.toml` cannot start so).
fn machinery(name: &str) -> bool {
    name.starts_with("_sync")
}

/// The table only the embedded sync server's machinery has.
const SERVER_COUNTER: &str = "_sync_counter";

/// Read the live file (never written: it is opened read-only) and the catalog its generated DDL
/// (of `files`) makes. Returns `(expected, actual, the target compared with)`.
pub fn catalogs(
    path: &Path,
    shown: &str,
    files: &Files,
) -> Result<(Catalog, Catalog, ExtraTarget), LiveError> {
    let connect = |message: String| LiveError::Connect { url: shown.to_owned(), message };
    if !path.is_file() {
        return Err(connect("no such file".into()));
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let live = Connection::open_with_flags(path, flags).map_err(|e| connect(e.to_string()))?;
    // Opening succeeds on any file; the first read says whether it is a database.
    let server = live
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [SERVER_COUNTER],
            |r| r.get::<_, i64>(0),
        )
        .map_err(|e| connect(e.to_string()))?
        > 0;
    let (file, target) = match server {
        true => ("sqlite-server.sql", ExtraTarget::SqliteServer),
        false => ("sqlite.sql", ExtraTarget::Sqlite),
    };
    let actual = read(&live)?;
    let shadow = Connection::open_in_memory().map_err(|e| query("opening memory", e))?;
    shadow
        .execute_batch(&files[&format!("sql/{file}")])
        .map_err(|e| LiveError::Ddl { file: file.into(), message: e.to_string() })?;
    Ok((read(&shadow)?, actual, target))
}

fn query(what: &str, error: rusqlite::Error) -> LiveError {
    LiveError::Query { what: what.to_owned(), message: error.to_string() }
}

/// Every row of a query as text values (`None` for NULL).
fn rows<P: rusqlite::Params>(
    conn: &Connection,
    sql: &str,
    params: P,
) -> Result<Vec<Vec<Option<String>>>, LiveError> {
    use rusqlite::types::Value;
    let fail = |e| query(sql, e);
    let mut stmt = conn.prepare(sql).map_err(fail)?;
    let n = stmt.column_count();
    let rows = stmt.query_map(params, |row| {
        (0..n)
            .map(|i| {
                row.get::<_, Value>(i).map(|v| match v {
                    Value::Null => None,
                    Value::Integer(i) => Some(i.to_string()),
                    Value::Real(f) => Some(f.to_string()),
                    Value::Text(t) => Some(t),
                    Value::Blob(_) => Some("<blob>".into()),
                })
            })
            .collect::<Result<Vec<_>, _>>()
    });
    rows.map_err(fail)?.collect::<Result<_, _>>().map_err(fail)
}

fn text(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}

fn read(conn: &Connection) -> Result<Catalog, LiveError> {
    let mut catalog = Catalog::default();
    let tables = rows(
        conn,
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite!_%' \
         ESCAPE '!' ORDER BY name",
        [],
    )?;
    for row in tables {
        let name = text(&row[0]);
        if machinery(&name) {
            continue;
        }
        let table = read_table(conn, &name, &text(&row[1]))?;
        catalog.tables.insert(name, table);
    }
    for row in rows(conn, "SELECT name, sql FROM sqlite_master WHERE type = 'view'", [])? {
        catalog.views.insert(text(&row[0]), squeeze(&text(&row[1])));
    }
    let triggers =
        rows(conn, "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'", [])?;
    for row in triggers {
        let name = text(&row[0]);
        // A trigger on a view or on a table left out above finds no table.
        if let Some(table) = catalog.tables.get_mut(&text(&row[1]))
            && !machinery(&name)
        {
            table.triggers.insert(name, squeeze(&text(&row[2])));
        }
    }
    Ok(catalog)
}

fn read_table(conn: &Connection, name: &str, sql: &str) -> Result<Table, LiveError> {
    let mut table = Table::default();
    let mut key: Vec<(i64, String)> = Vec::new();
    let columns = rows(
        conn,
        "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_xinfo(?1) ORDER BY cid",
        [name],
    )?;
    for row in columns {
        let column = text(&row[0]);
        if machinery(&column) {
            continue;
        }
        let position: i64 = text(&row[4]).parse().unwrap_or(0);
        if position > 0 {
            key.push((position, column.clone()));
        }
        table.columns.push(Column {
            name: column,
            ty: text(&row[1]),
            not_null: text(&row[2]) == "1",
            default: row[3].clone(),
        });
    }
    key.sort();
    table.primary_key = key.into_iter().map(|(_, c)| c).collect();
    // SQLite keeps constraint names only in the statement's text.
    let names = constraint_names(sql);
    let named = |list: &[(Vec<String>, String)], columns: &[String]| {
        list.iter().find(|(c, _)| c == columns).map(|(_, name)| name.clone())
    };
    if !table.primary_key.is_empty() {
        table.primary_key_name = names.primary_key;
    }
    let uniques = rows(conn, "SELECT name FROM pragma_index_list(?1) WHERE origin = 'u'", [name])?;
    for row in uniques {
        let columns = index_columns(conn, &text(&row[0]))?;
        let name = named(&names.uniques, &columns);
        table.uniques.push(Unique { columns, name });
    }
    table.uniques.sort();
    table.foreign_keys = foreign_keys(conn, name)?;
    for fk in &mut table.foreign_keys {
        fk.name = named(&names.foreign_keys, &fk.columns);
    }
    for (check_name, definition) in checks(sql) {
        if !machinery(&check_name) {
            table.checks.insert(check_name, definition);
        }
    }
    let indexes = rows(
        conn,
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1 \
         AND sql IS NOT NULL",
        [name],
    )?;
    for row in indexes {
        let index = text(&row[0]);
        if !machinery(&index) {
            table.indexes.insert(index, squeeze(&text(&row[1])));
        }
    }
    Ok(table)
}

/// Key columns of an index, in order (an expression shows as `<expression>`).
fn index_columns(conn: &Connection, index: &str) -> Result<Vec<String>, LiveError> {
    let cols = rows(
        conn,
        "SELECT name FROM pragma_index_xinfo(?1) WHERE key = 1 ORDER BY seqno",
        [index],
    )?;
    Ok(cols.iter().map(|r| r[0].clone().unwrap_or_else(|| "<expression>".into())).collect())
}

fn foreign_keys(conn: &Connection, table: &str) -> Result<Vec<ForeignKey>, LiveError> {
    let list = rows(
        conn,
        "SELECT id, \"table\", \"from\", \"to\", on_delete, on_update \
         FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
        [table],
    )?;
    let mut out: Vec<(String, ForeignKey)> = Vec::new();
    for row in list {
        let id = text(&row[0]);
        if out.last().is_none_or(|(last, _)| *last != id) {
            let fk = ForeignKey {
                name: None,
                columns: Vec::new(),
                ref_table: text(&row[1]),
                ref_columns: Vec::new(),
                on_delete: text(&row[4]),
                on_update: text(&row[5]),
            };
            out.push((id, fk));
        }
        let fk = &mut out.last_mut().expect("pushed above").1;
        fk.columns.push(text(&row[2]));
        // `REFERENCES parent` without columns means the parent's primary key.
        if let Some(to) = &row[3] {
            fk.ref_columns.push(to.clone());
        }
    }
    let mut fks = Vec::new();
    for (_, mut fk) in out {
        if fk.ref_columns.is_empty() {
            let key = rows(
                conn,
                "SELECT name FROM pragma_table_xinfo(?1) WHERE pk > 0 ORDER BY pk",
                [&fk.ref_table],
            )?;
            fk.ref_columns = key.iter().map(|r| text(&r[0])).collect();
        }
        fks.push(fk);
    }
    fks.sort_by(|a, b| (&a.columns, &a.ref_table).cmp(&(&b.columns, &b.ref_table)));
    Ok(fks)
}
