//! Renames (`renamed_from`) on real databases: a filled database, with children under ON DELETE
//! CASCADE foreign keys, pending client writes (SQLite) and tombstones (Postgres), migrated
//! across a table rename and column renames (a primary key, a foreign key and `via:` column, an
//! indexed column) keeps every row and value under the new names, and has the catalog and the
//! sync machinery of a fresh database of the new version.

use codegen::ir::Schema;
use integration_tests::pg::TestDb;
use integration_tests::{catalog, ddl, load, sqlite};

use crate::migrations_support::{renumbered, sqlite_catalog};

const V1: &str = r#"
[schema]
name = "library"
version = 1

[sync]
owner = "user_id"
modified = "modified_at"
deleted = "deleted"

[tables.author]
comment = "Who wrote the books."
sync = "owner"
unique = [{ columns = ["user_id", "name"] }]

[tables.author.columns]
id = { type = "integer", primary_key = true }
user_id = { type = "text" }
name = { type = "text", comment = "As printed." }
kind = { type = "text", values = ["person", "group"], default = "person" }
deleted = { type = "boolean", default = false }
modified_at = { type = "timestamp", default = "now" }

[tables.book]
sync = "via:author_id"
indexes = [{ columns = ["title"] }]
checks = [{ name = "book_title_not_blank", expr = "length(title) > 0" }]

[tables.book.columns]
id = { type = "integer", primary_key = true }
author_id = { type = "integer", references = "author.id", on_delete = "cascade" }
title = { type = "text" }
pages = { type = "integer", nullable = true }
deleted = { type = "boolean", default = false }
modified_at = { type = "timestamp", default = "now" }
"#;

/// Version 2: `author` is `writer`, its key `writer_id` and its `name` `full_name`; a book's
/// `author_id` is `writer_id` and its `title` `heading`.
fn v2() -> String {
    let mut text = V1.to_owned();
    for (from, to) in [
        ("version = 1", "version = 2\nmin_client_version = 2"),
        ("[tables.author]\n", "[tables.writer]\nrenamed_from = \"author\"\n"),
        ("[tables.author.columns]", "[tables.writer.columns]"),
        ("\"user_id\", \"name\"", "\"user_id\", \"full_name\""),
        (
            "id = { type = \"integer\", primary_key = true }\nuser_id",
            "writer_id = { type = \"integer\", primary_key = true, renamed_from = \"id\" }\nuser_id",
        ),
        (
            "name = { type = \"text\", comment",
            "full_name = { type = \"text\", renamed_from = \"name\", comment",
        ),
        ("via:author_id", "via:writer_id"),
        ("[\"title\"]", "[\"heading\"]"),
        ("length(title)", "length(heading)"),
        (
            "author_id = { type = \"integer\", references = \"author.id\"",
            "writer_id = { type = \"integer\", renamed_from = \"author_id\", references = \"writer.writer_id\"",
        ),
        ("title = { type = \"text\" }", "heading = { type = \"text\", renamed_from = \"title\" }"),
    ] {
        assert!(text.contains(from), "the edit does not apply: {from}");
        text = text.replacen(from, to, 1);
    }
    text
}

const FILL: &str = "INSERT INTO \"author\" (\"id\", \"user_id\", \"name\", \"kind\") VALUES \
       (1, 'u1', 'Ann', 'person'), (2, 'u1', 'Bob', 'group'), (3, 'u2', 'Cy', 'person');\n\
     INSERT INTO \"book\" (\"id\", \"author_id\", \"title\", \"pages\") VALUES \
       (1, 1, 'Alpha', 100), (2, 1, 'Beta', NULL), (3, 2, 'Gamma', 300), (4, 3, 'Delta', 400);\n";

/// Every row of both tables in key order, each value as text: `(table, columns)` names them
/// in one version.
fn rows_sql(author: (&str, &str), book: (&str, &str)) -> [String; 2] {
    let cast = |columns: &str| -> String {
        let texts: Vec<String> = columns
            .split(", ")
            .map(|c| format!("coalesce(CAST(\"{c}\" AS TEXT), 'NULL')"))
            .collect();
        texts.join(" || '|' || ")
    };
    [author, book].map(|(table, columns)| {
        let key = columns.split(", ").next().unwrap();
        format!("SELECT {} FROM \"{table}\" ORDER BY \"{key}\"", cast(columns))
    })
}

fn old_rows() -> [String; 2] {
    rows_sql(
        ("author", "id, user_id, name, kind, deleted, modified_at"),
        ("book", "id, author_id, title, pages, deleted, modified_at"),
    )
}

fn new_rows() -> [String; 2] {
    rows_sql(
        ("writer", "writer_id, user_id, full_name, kind, deleted, modified_at"),
        ("book", "id, writer_id, heading, pages, deleted, modified_at"),
    )
}

fn versions() -> (Schema, Schema) {
    (load("v1.toml", V1), load("v2.toml", &v2()))
}

#[test]
fn sqlite_keeps_every_row_and_pending_write_across_renames() {
    let (old, new) = versions();
    let migration = codegen::migrate::plan(&old, &new).unwrap();
    for expected in [
        "ALTER TABLE \"author\" RENAME TO \"writer\";",
        "ALTER TABLE \"writer\" RENAME COLUMN \"id\" TO \"writer_id\";",
        "ALTER TABLE \"book\" RENAME COLUMN \"title\" TO \"heading\";",
    ] {
        assert!(migration.sqlite.contains(expected), "{expected} in\n{}", migration.sqlite);
    }
    let db = sqlite::open(&ddl(&old).0);
    db.execute_batch(FILL).unwrap();
    let read = |sql: &[String; 2]| -> Vec<Vec<String>> {
        sql.iter()
            .map(|q| {
                let mut stmt = db.prepare(q).unwrap();
                stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
            })
            .collect()
    };
    let outbox = || -> Vec<String> {
        let sql = "SELECT table_name || ' ' || key || ' ' || seq FROM _sync_outbox ORDER BY seq";
        let mut stmt = db.prepare(sql).unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    let rows = read(&old_rows());
    assert_eq!(rows[1].len(), 4);
    let pending = outbox();
    db.execute_batch(&migration.sqlite).unwrap_or_else(|e| panic!("{e}\n{}", migration.sqlite));

    let fresh = sqlite::open(&ddl(&new).0);
    let (migrated, expected) = (sqlite_catalog(&db), sqlite_catalog(&fresh));
    let only = |a: &[String], b: &[String]| -> Vec<String> {
        a.iter().filter(|l| !b.contains(l)).cloned().collect()
    };
    assert_eq!(
        only(&migrated, &expected),
        only(&expected, &migrated),
        "catalog lines only in the migrated database (left) and only in a fresh one (right)\n{}",
        migration.sqlite
    );
    assert_eq!(read(&new_rows()), rows);
    // The pending writes name their rows by the new names, as the new triggers would.
    let renamed: Vec<String> =
        pending.iter().map(|e| e.replacen("author {\"id\"", "writer {\"writer_id\"", 1)).collect();
    assert_eq!(outbox(), renamed);
    assert!(renamed.iter().any(|e| e.starts_with("writer {\"writer_id\":1} ")), "{renamed:?}");
    // And the new triggers take the next write of a row to the same entry.
    db.execute_batch("UPDATE \"writer\" SET \"full_name\" = 'Ann B' WHERE \"writer_id\" = 1;")
        .unwrap();
    assert_eq!(outbox().len(), renamed.len());
    let version: u32 = db.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, 2);
    let violations: i64 =
        db.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| r.get(0)).unwrap();
    assert_eq!(violations, 0);
}

#[test]
fn postgres_keeps_every_row_and_tombstone_across_renames() {
    let (old, new) = versions();
    let migration = codegen::migrate::plan(&old, &new).unwrap();
    for expected in [
        "ALTER TABLE \"author\" RENAME TO \"writer\";",
        "ALTER TABLE \"writer\" RENAME COLUMN \"name\" TO \"full_name\";",
        "ALTER TABLE \"writer\" RENAME CONSTRAINT \"author_pkey\" TO \"writer_pkey\";",
        "ALTER INDEX \"book_title_idx\" RENAME TO \"book_heading_idx\";",
    ] {
        assert!(migration.postgres.contains(expected), "{expected} in\n{}", migration.postgres);
    }
    assert!(!migration.postgres.contains("DROP TABLE"), "{}", migration.postgres);
    let mut db = TestDb::new();
    db.batch_execute(&ddl(&old).1).unwrap();
    db.batch_execute(FILL).unwrap();
    // Author 3 goes with its book: two tombstones under the old names.
    db.batch_execute("DELETE FROM \"author\" WHERE \"id\" = 3;").unwrap();
    let read = |db: &mut TestDb, sql: &[String; 2]| -> Vec<Vec<String>> {
        sql.iter()
            .map(|q| db.query(q.as_str(), &[]).unwrap().iter().map(|r| r.get(0)).collect())
            .collect()
    };
    let rows = read(&mut db, &old_rows());
    assert_eq!(rows[0].len(), 2);
    db.batch_execute(&migration.postgres).unwrap_or_else(|e| panic!("{e}\n{}", migration.postgres));

    let mut fresh = TestDb::new();
    fresh.batch_execute(&ddl(&new).1).unwrap();
    assert_eq!(
        renumbered(catalog::snapshot(&mut db)),
        renumbered(catalog::snapshot(&mut fresh)),
        "{}",
        migration.postgres
    );
    assert_eq!(
        catalog::sync_machinery(&mut db),
        catalog::sync_machinery(&mut fresh),
        "sync machinery\n{}",
        migration.postgres
    );
    assert_eq!(read(&mut db, &new_rows()), rows);
    let tombstones: Vec<String> = db
        .query("SELECT table_name || ' ' || key::text FROM _sync_tombstone ORDER BY 1", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(tombstones, ["book {\"id\": 4}", "writer {\"writer_id\": 3}"]);
    // The recreated triggers record the next deletion under the new names.
    db.batch_execute("DELETE FROM \"writer\" WHERE \"writer_id\" = 2;").unwrap();
    let recorded: i64 = db
        .query_one(
            "SELECT count(*) FROM _sync_tombstone WHERE (table_name, key) IN \
             (('writer', '{\"writer_id\": 2}'::jsonb), ('book', '{\"id\": 3}'::jsonb))",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(recorded, 2);
}
