//! The generated SQLite DDL on a real SQLite database, read back through SQLite's own catalog
//! (`PRAGMA table_xinfo`, `foreign_key_list`, `index_list`/`index_xinfo`, `sqlite_master`) and
//! compared with the IR, for the example schema and every test schema; then the constraints
//! are shown to reject bad rows.

use std::collections::BTreeMap;

use codegen::ir::{Schema, Table};
use integration_tests::wire::{assert_default, expected_default, sqlite_has_check, sqlite_type};
use integration_tests::{ddl, example_schema, schemas_under_test, sqlite};
use rusqlite::{Connection, params};

#[test]
fn every_schema_reads_back_as_its_ir() {
    for (name, schema) in schemas_under_test() {
        let conn = sqlite::open(&ddl(&schema).0);
        check_schema(&name, &schema, &conn);
    }
}

fn check_schema(name: &str, schema: &Schema, conn: &Connection) {
    let expected: Vec<&str> =
        schema.tables.iter().filter(|t| t.targets.sqlite).map(|t| t.name.as_str()).collect();
    let actual: Vec<(String, bool)> = strings(
        conn,
        "SELECT name, strict FROM pragma_table_list WHERE schema = 'main' AND type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '\\_sync\\_%' ESCAPE '\\' ORDER BY name",
        [],
    )
    .into_iter()
    .map(|r| (r[0].clone(), r[1] == "1"))
    .collect();
    let mut sorted = expected.clone();
    sorted.sort_unstable();
    assert_eq!(
        actual.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(),
        sorted,
        "{name}: tables"
    );
    assert!(actual.iter().all(|(_, strict)| *strict), "{name}: every table is STRICT");
    for table in schema.tables.iter().filter(|t| t.targets.sqlite) {
        let what = format!("{name}: table {}", table.name);
        check_columns(&what, schema, table, conn);
        check_foreign_keys(&what, table, conn);
        check_named_constraints(&what, schema, table, conn);
        check_uniques(&what, table, conn);
        check_indexes(&what, table, conn);
        check_column_comments(&what, table, conn);
    }
}

/// Names, types, nullability, primary key positions and defaults (evaluated, not compared as
/// text).
fn check_columns(what: &str, schema: &Schema, table: &Table, conn: &Connection) {
    let rows = strings(
        conn,
        "SELECT name, type, \"notnull\", pk, dflt_value FROM pragma_table_xinfo(?1) ORDER BY cid",
        [&table.name],
    );
    let actual: Vec<(String, String, String, String)> =
        rows.iter().map(|r| (r[0].clone(), r[1].clone(), r[2].clone(), r[3].clone())).collect();
    let expected: Vec<(String, String, String, String)> = table
        .columns
        .iter()
        .map(|c| {
            let pk = table.primary_key.columns.iter().position(|p| *p == c.name);
            (
                c.name.clone(),
                sqlite_type(c, schema.timestamp_storage).to_owned(),
                if c.nullable { "0" } else { "1" }.to_owned(),
                pk.map_or(0, |i| i + 1).to_string(),
            )
        })
        .collect();
    assert_eq!(actual, expected, "{what}: columns (name, type, not null, pk position)");

    for (col, row) in table.columns.iter().zip(&rows) {
        let dflt = &row[4];
        match expected_default(col) {
            None => assert_eq!(dflt, "", "{what}: column {} has no default", col.name),
            Some(expected) => {
                let value = conn
                    .query_row(&format!("SELECT {dflt}"), [], |r| {
                        Ok(sqlite::decode(col, schema.timestamp_storage, r.get_ref(0)?))
                    })
                    .unwrap_or_else(|e| panic!("{what}: default `{dflt}` fails: {e}"));
                assert_default(&format!("{what}.{}", col.name), &expected, &value);
            }
        }
    }
}

/// `(referenced table, columns, referenced columns, on delete, on update)`.
type ForeignKey = (String, Vec<String>, Vec<String>, String, String);

fn check_foreign_keys(what: &str, table: &Table, conn: &Connection) {
    let mut actual: BTreeMap<String, ForeignKey> = BTreeMap::new();
    let rows = strings(
        conn,
        "SELECT id, \"table\", \"from\", \"to\", on_delete, on_update \
         FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
        [&table.name],
    );
    for r in rows {
        let fk = actual
            .entry(r[0].clone())
            .or_insert_with(|| (r[1].clone(), Vec::new(), Vec::new(), r[4].clone(), r[5].clone()));
        fk.1.push(r[2].clone());
        fk.2.push(r[3].clone());
    }
    let mut actual: Vec<_> = actual.into_values().collect();
    let mut expected: Vec<_> = table
        .foreign_keys
        .iter()
        .map(|fk| {
            let action = |a: Option<codegen::ir::FkAction>| a.map_or("NO ACTION", |a| a.as_sql());
            (
                fk.ref_table.clone(),
                fk.columns.clone(),
                fk.ref_columns.clone(),
                action(fk.on_delete).to_owned(),
                action(fk.on_update).to_owned(),
            )
        })
        .collect();
    actual.sort();
    expected.sort();
    assert_eq!(actual, expected, "{what}: foreign keys (table, from, to, on delete, on update)");
}

/// SQLite keeps constraint names only in the stored `CREATE TABLE` text, so that is where they
/// are read from.
fn check_named_constraints(what: &str, schema: &Schema, table: &Table, conn: &Connection) {
    let sql = stored_sql(conn, "table", &table.name);
    let mut actual = constraint_names(&sql);
    let mut expected: Vec<(String, &str)> = vec![(table.primary_key.name.clone(), "PRIMARY")];
    // A live-only key is a partial unique index, not a constraint: see check_indexes.
    let constraints = table.uniques.iter().filter(|u| !u.live_only);
    expected.extend(constraints.map(|u| (u.name.clone(), "UNIQUE")));
    expected.extend(table.foreign_keys.iter().map(|f| (f.name.clone(), "FOREIGN")));
    expected.extend(table.checks.iter().map(|c| (c.name.clone(), "CHECK")));
    expected.extend(
        table
            .columns
            .iter()
            .filter(|c| sqlite_has_check(c, schema.timestamp_storage))
            .map(|c| (c.check_name.clone(), "CHECK")),
    );
    actual.sort();
    expected.sort();
    let expected: Vec<(String, String)> =
        expected.into_iter().map(|(n, k)| (n, k.to_owned())).collect();
    assert_eq!(actual, expected, "{what}: named constraints");
}

/// `(name, first keyword)` of every `CONSTRAINT "name" KEYWORD` in a statement.
fn constraint_names(sql: &str) -> Vec<(String, String)> {
    sql.split("CONSTRAINT \"")
        .skip(1)
        .map(|rest| {
            let (name, after) = rest.split_once('"').expect("a quoted constraint name");
            let keyword = after.split_whitespace().next().unwrap_or_default();
            (name.to_owned(), keyword.trim_end_matches('(').to_owned())
        })
        .collect()
}

fn check_uniques(what: &str, table: &Table, conn: &Connection) {
    let names = strings(
        conn,
        "SELECT name FROM pragma_index_list(?1) WHERE origin = 'u' ORDER BY name",
        [&table.name],
    );
    let mut actual: Vec<Vec<String>> = names
        .iter()
        .map(|n| index_columns(conn, &n[0]).into_iter().map(|(c, _)| c).collect())
        .collect();
    let constraints = table.uniques.iter().filter(|u| !u.live_only);
    let mut expected: Vec<Vec<String>> = constraints.map(|u| u.columns.clone()).collect();
    actual.sort();
    expected.sort();
    assert_eq!(actual, expected, "{what}: unique constraints' columns");
}

fn check_indexes(what: &str, table: &Table, conn: &Connection) {
    let rows = strings(
        conn,
        "SELECT name, \"unique\", partial FROM pragma_index_list(?1) WHERE origin = 'c' \
         ORDER BY name",
        [&table.name],
    );
    let actual: Vec<_> = rows
        .iter()
        .map(|r| {
            let sql = stored_sql(conn, "index", &r[0]);
            let predicate = sql.split_once(" WHERE ").map(|(_, p)| p.trim().to_owned());
            (r[0].clone(), r[1] == "1", r[2] == "1", index_columns(conn, &r[0]), predicate)
        })
        .collect();
    let mut expected: Vec<_> = table
        .indexes
        .iter()
        .map(|i| {
            let cols = i.columns.iter().map(|c| (c.name.clone(), c.descending)).collect();
            (i.name.clone(), i.unique, i.predicate.is_some(), cols, i.predicate.clone())
        })
        .collect();
    // Live-only unique keys: unique indexes over the rows whose soft-delete flag is 0.
    for unique in table.uniques.iter().filter(|u| u.live_only) {
        let deleted = table.sync.deleted.as_deref().expect("live-only keys need a deleted column");
        let cols = unique.columns.iter().map(|c| (c.clone(), false)).collect();
        let predicate = Some(format!("\"{deleted}\" = 0"));
        expected.push((unique.name.clone(), true, true, cols, predicate));
    }
    expected.sort();
    assert_eq!(actual, expected, "{what}: indexes (name, unique, partial, columns, predicate)");
}

/// Key columns of an index with their order, from `index_xinfo`.
fn index_columns(conn: &Connection, index: &str) -> Vec<(String, bool)> {
    strings(
        conn,
        "SELECT name, \"desc\" FROM pragma_index_xinfo(?1) WHERE key = 1 ORDER BY seqno",
        [index],
    )
    .into_iter()
    .map(|r| (r[0].clone(), r[1] == "1"))
    .collect()
}

/// SQLite keeps the `--` comments inside a `CREATE TABLE`, so a column's comment is the run of
/// comment lines right above its definition in the stored statement. (A table's comment sits
/// above the statement and is not stored.)
fn check_column_comments(what: &str, table: &Table, conn: &Connection) {
    let sql = stored_sql(conn, "table", &table.name);
    let mut actual = BTreeMap::new();
    let mut pending: Vec<&str> = Vec::new();
    for line in sql.lines().map(str::trim) {
        if let Some(comment) = line.strip_prefix("-- ") {
            pending.push(comment);
            continue;
        }
        if let Some(col) =
            table.columns.iter().find(|c| line.starts_with(&format!("\"{}\" ", c.name)))
            && !pending.is_empty()
        {
            actual.insert(col.name.clone(), pending.join("\n"));
        }
        pending.clear();
    }
    let expected: BTreeMap<String, String> =
        table.columns.iter().filter_map(|c| Some((c.name.clone(), c.comment.clone()?))).collect();
    assert_eq!(actual, expected, "{what}: column comments");
}

fn stored_sql(conn: &Connection, kind: &str, name: &str) -> String {
    conn.query_row(
        "SELECT sql FROM sqlite_master WHERE type = ?1 AND name = ?2",
        params![kind, name],
        |r| r.get(0),
    )
    .unwrap_or_else(|e| panic!("no {kind} {name} in sqlite_master: {e}"))
}

/// Every row of a query, each value as text ("" for NULL).
fn strings<P: rusqlite::Params>(conn: &Connection, sql: &str, params: P) -> Vec<Vec<String>> {
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let n = stmt.column_count();
    stmt.query_map(params, |r| {
        (0..n)
            .map(|i| {
                Ok(match r.get_ref(i)? {
                    rusqlite::types::ValueRef::Null => String::new(),
                    rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                    rusqlite::types::ValueRef::Real(v) => v.to_string(),
                    v => v.as_str()?.to_owned(),
                })
            })
            .collect()
    })
    .and_then(|rows| rows.collect())
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

const USER: &str = "00000000-0000-4000-8000-000000000001";
const TUNE: &str = "00000000-0000-4000-8000-000000000002";

/// Assert that a statement fails with a message containing `needle` (a constraint's name, or
/// the kind of failure when SQLite does not name it).
fn rejects(conn: &Connection, sql: &str, needle: &str) {
    match conn.execute_batch(sql) {
        Ok(()) => panic!("SQLite accepted `{sql}`; expected a failure mentioning {needle}"),
        Err(e) => {
            assert!(e.to_string().contains(needle), "`{sql}` failed with `{e}`, not {needle}")
        }
    }
}

#[test]
fn constraints_reject_bad_rows() {
    let conn = sqlite::open(&ddl(&example_schema()).0);
    // `genre` is public: only a sync applying pulled rows writes it on a device.
    conn.execute_batch(&format!(
        "INSERT INTO user_profile (id, email) VALUES ('{USER}', 'a@example.com');
         UPDATE _sync_client SET applying = 1;
         INSERT INTO genre (id, name) VALUES ('irish', 'Irish');
         UPDATE _sync_client SET applying = 0;
         INSERT INTO tune (id, user_id, genre_id, title, composed_on) \
           VALUES ('{TUNE}', '{USER}', 'irish', 'The Kesh', '2024-02-29');"
    ))
    .expect("valid rows are accepted");
    // A tune row with one column set to `value` (SQL), the others valid.
    let tune = |column: &str, value: &str| {
        let mut row = BTreeMap::from([("user_id", format!("'{USER}'")), ("title", "'T'".into())]);
        row.insert(column, value.to_owned());
        let (cols, values): (Vec<&str>, Vec<String>) = row.into_iter().unzip();
        format!("INSERT INTO tune ({}) VALUES ({})", cols.join(", "), values.join(", "))
    };
    rejects(&conn, &tune("type", "'bogus'"), "tune_type_check");
    rejects(&conn, &tune("deleted", "2"), "tune_deleted_check");
    rejects(&conn, &tune("composed_on", "'2024-02-30'"), "tune_composed_on_check");
    rejects(&conn, &tune("composed_on", "'2024-2-3'"), "tune_composed_on_check");
    rejects(
        &conn,
        &tune("last_modified_at", "'2024-01-01 10:00:00'"),
        "tune_last_modified_at_check",
    );
    rejects(
        &conn,
        &tune("last_modified_at", "'2024-13-01T00:00:00.000Z'"),
        "tune_last_modified_at_check",
    );
    rejects(
        &conn,
        &tune("last_modified_at", "'2024-01-01T10:00:00Z'"),
        "tune_last_modified_at_check",
    );
    rejects(&conn, &tune("sync_version", "'many'"), "cannot store TEXT value in INTEGER column");
    rejects(
        &conn,
        &tune("user_id", "'00000000-0000-4000-8000-0000000000FF'"),
        "tune_user_id_check",
    );
    rejects(&conn, &tune("title", "'   '"), "tune_title_not_blank");
    rejects(&conn, &tune("title", "NULL"), "NOT NULL constraint failed: tune.title");
    rejects(
        &conn,
        "INSERT INTO tune (user_id, title) VALUES ('00000000-0000-4000-8000-0000000000ff', 'T')",
        "FOREIGN KEY constraint failed",
    );
    rejects(
        &conn,
        "INSERT INTO user_profile (id, settings) VALUES ('00000000-0000-4000-8000-000000000003', '{not json')",
        "user_profile_settings_check",
    );
    rejects(
        &conn,
        "INSERT INTO user_profile (id, email) VALUES ('00000000-0000-4000-8000-000000000004', 'a@example.com')",
        "UNIQUE constraint failed: user_profile.email",
    );
    rejects(
        &conn,
        &format!(
            "INSERT INTO practice_record (user_id, tune_id, practiced, quality) \
             VALUES ('{USER}', '{TUNE}', '2024-01-01T00:00:00.000Z', 6)"
        ),
        "practice_record_quality_range",
    );

    // A nullable column's CHECK lets NULL through, and a NULL genre is no dangling reference.
    conn.execute_batch(&tune("composed_on", "NULL"))
        .expect("NULL passes a nullable column's check");

    // ON DELETE SET NULL and ON DELETE CASCADE act.
    conn.execute_batch(
        "UPDATE _sync_client SET applying = 1; DELETE FROM genre WHERE id = 'irish';
         UPDATE _sync_client SET applying = 0",
    )
    .expect("delete a genre as a sync would");
    let genre: Option<String> = conn
        .query_row("SELECT genre_id FROM tune WHERE id = ?1", [TUNE], |r| r.get(0))
        .expect("the tune survives its genre");
    assert_eq!(genre, None, "ON DELETE SET NULL");
    conn.execute_batch(&format!("DELETE FROM user_profile WHERE id = '{USER}'")).expect("delete");
    let tunes: i64 = conn.query_row("SELECT count(*) FROM tune", [], |r| r.get(0)).unwrap();
    assert_eq!(tunes, 0, "ON DELETE CASCADE removes the user's tunes");
}
