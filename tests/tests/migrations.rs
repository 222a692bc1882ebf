//! Migrations on real databases: for each schema change, a database made from version N's DDL
//! and filled with parents and children, migrated with the planned SQL, has the same catalog as
//! a fresh database of version N+1 and still every row, on SQLite and on Postgres.

mod migrations_support;

use codegen::ir::Schema;
use integration_tests::pg::TestDb;
use integration_tests::{catalog, ddl, load, sqlite};
use migrations_support::{fill, pg_rows, renumbered, sqlite_catalog, sqlite_rows};

/// Version 1: synced authors, and their books (owned through the author, deleted with it).
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

[tables.author.columns]
id = { type = "integer", primary_key = true }
user_id = { type = "text" }
name = { type = "text" }
born = { type = "integer", nullable = true }
deleted = { type = "boolean", default = false }
modified_at = { type = "timestamp", default = "now" }

[tables.book]
sync = "via:author_id"
indexes = [{ columns = ["title"] }]

[tables.book.columns]
id = { type = "integer", primary_key = true }
author_id = { type = "integer", references = "author.id", on_delete = "cascade" }
title = { type = "text" }
pages = { type = "integer", nullable = true }
deleted = { type = "boolean", default = false }
modified_at = { type = "timestamp", default = "now" }
"#;

/// One schema change: version 2 as an edit of version 1, and the tables SQLite must rebuild.
struct Case {
    name: &'static str,
    edits: &'static [(&'static str, &'static str)],
    rebuilt: &'static [&'static str],
}

const AUTHOR_END: &str =
    "modified_at = { type = \"timestamp\", default = \"now\" }\n\n[tables.book]";
const BOOK_END: &str = "modified_at = { type = \"timestamp\", default = \"now\" }\n";

const CASES: &[Case] = &[
    Case {
        name: "add a nullable column",
        edits: &[(
            AUTHOR_END,
            "modified_at = { type = \"timestamp\", default = \"now\" }\n\
             nickname = { type = \"text\", nullable = true, comment = \"What friends call them.\" }\n\n[tables.book]",
        )],
        rebuilt: &[],
    },
    Case {
        name: "add a NOT NULL column with a default",
        edits: &[(
            BOOK_END,
            "modified_at = { type = \"timestamp\", default = \"now\" }\nrating = { type = \"integer\", default = 3 }\n",
        )],
        rebuilt: &[],
    },
    Case {
        name: "drop a column",
        edits: &[("pages = { type = \"integer\", nullable = true }\n", "")],
        rebuilt: &["book"],
    },
    Case {
        name: "change a column type (a parent with ON DELETE CASCADE children)",
        edits: &[("born = { type = \"integer\"", "born = { type = \"bigint\"")],
        rebuilt: &["author"],
    },
    Case {
        name: "add a table",
        edits: &[(
            BOOK_END,
            "modified_at = { type = \"timestamp\", default = \"now\" }\n\n\
             [tables.review]\nsync = \"via:book_id\"\n\n[tables.review.columns]\n\
             id = { type = \"integer\", primary_key = true }\n\
             book_id = { type = \"integer\", references = \"book.id\", on_delete = \"cascade\" }\n\
             body = { type = \"text\" }\ndeleted = { type = \"boolean\", default = false }\n\
             modified_at = { type = \"timestamp\", default = \"now\" }\n",
        )],
        rebuilt: &[],
    },
    Case {
        name: "drop an index and add another",
        edits: &[
            (
                "indexes = [{ columns = [\"title\"] }]\n",
                "indexes = [{ columns = [\"pages\", \"title desc\"] }]\n",
            ),
            (
                "comment = \"Who wrote the books.\"\n",
                "comment = \"Who wrote the books.\"\nindexes = [{ columns = [\"name\"], name = \"author_name_idx\" }]\n",
            ),
        ],
        rebuilt: &[],
    },
    Case {
        name: "make a column without NULLs NOT NULL",
        edits: &[(
            "pages = { type = \"integer\", nullable = true }",
            "pages = { type = \"integer\" }",
        )],
        rebuilt: &["book"],
    },
    Case {
        name: "add a check and a unique key to a parent with ON DELETE CASCADE children",
        edits: &[(
            "comment = \"Who wrote the books.\"\n",
            "comment = \"Who wrote the books.\"\nunique = [{ columns = [\"user_id\", \"name\"] }]\n\
             checks = [{ name = \"author_name_not_blank\", expr = \"length(name) > 0\" }]\n",
        )],
        rebuilt: &["author"],
    },
];

fn versions(case: &Case) -> (Schema, Schema) {
    let mut text = V1.to_owned();
    for (from, to) in case.edits {
        assert!(text.contains(from), "{}: the edit does not apply: {from}", case.name);
        text = text.replacen(from, to, 1);
    }
    text = text.replacen("version = 1", "version = 2", 1);
    (load("v1.toml", V1), load("v2.toml", &text))
}

#[test]
fn sqlite_migrations_reach_the_new_schema_and_keep_every_row() {
    for case in CASES {
        let (old, new) = versions(case);
        let migration = codegen::migrate::plan(&old, &new).unwrap();
        for table in ["author", "book"] {
            let rebuilt = migration.sqlite.contains(&format!("CREATE TABLE \"_migrate_{table}\""));
            let expected = case.rebuilt.contains(&table);
            assert_eq!(
                rebuilt, expected,
                "{}: rebuild of {table}\n{}",
                case.name, migration.sqlite
            );
        }
        let db = sqlite::open(&ddl(&old).0);
        db.execute_batch(&fill()).unwrap();
        let rows = sqlite_rows(&db, &old, &new);
        db.execute_batch(&migration.sqlite)
            .unwrap_or_else(|e| panic!("{}: {e}\n{}", case.name, migration.sqlite));

        let fresh = sqlite::open(&ddl(&new).0);
        let (migrated, expected) = (sqlite_catalog(&db), sqlite_catalog(&fresh));
        let only = |a: &[String], b: &[String]| -> Vec<String> {
            a.iter().filter(|l| !b.contains(l)).cloned().collect()
        };
        assert_eq!(
            only(&migrated, &expected),
            only(&expected, &migrated),
            "{}: catalog lines only in the migrated database (left) and only in a fresh one (right)",
            case.name
        );
        assert_eq!(sqlite_rows(&db, &old, &new), rows, "{}: rows", case.name);
        let version: u32 = db.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        let state: u32 =
            db.query_row("SELECT schema_version FROM _sync_client", [], |r| r.get(0)).unwrap();
        assert_eq!((version, state), (2, 2), "{}", case.name);
        let fk: bool = db.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
        assert!(fk, "{}: foreign keys are on again", case.name);
    }
}

#[test]
fn postgres_migrations_reach_the_new_schema_and_keep_every_row() {
    for case in CASES {
        let (old, new) = versions(case);
        let migration = codegen::migrate::plan(&old, &new).unwrap();
        let mut db = TestDb::new();
        db.batch_execute(&ddl(&old).1).unwrap();
        db.batch_execute(&fill()).unwrap();
        let rows = pg_rows(&mut db, &old, &new);
        db.batch_execute(&migration.postgres)
            .unwrap_or_else(|e| panic!("{}: {e}\n{}", case.name, migration.postgres));

        let mut fresh = TestDb::new();
        fresh.batch_execute(&ddl(&new).1).unwrap();
        assert_eq!(
            renumbered(catalog::snapshot(&mut db)),
            renumbered(catalog::snapshot(&mut fresh)),
            "{}",
            case.name
        );
        assert_eq!(
            catalog::sync_machinery(&mut db),
            catalog::sync_machinery(&mut fresh),
            "{}: sync machinery",
            case.name
        );
        assert_eq!(pg_rows(&mut db, &old, &new), rows, "{}: rows", case.name);
    }
}

/// A column made NOT NULL while a row holds NULL: the migration fails as a whole and leaves
/// the database as it was, on both databases.
#[test]
fn a_failing_migration_changes_nothing() {
    let case = Case {
        name: "born NOT NULL",
        edits: &[(
            "born = { type = \"integer\", nullable = true }",
            "born = { type = \"integer\" }",
        )],
        rebuilt: &["author"],
    };
    let (old, new) = versions(&case);
    let migration = codegen::migrate::plan(&old, &new).unwrap();

    let db = sqlite::open(&ddl(&old).0);
    db.execute_batch(&fill()).unwrap();
    let before = (sqlite_catalog(&db), sqlite_rows(&db, &old, &old));
    let error = db.execute_batch(&migration.sqlite).unwrap_err().to_string();
    assert!(error.contains("NOT NULL constraint failed"), "{error}");
    assert!(db.is_autocommit(), "the failed migration rolled its transaction back");
    assert_eq!((sqlite_catalog(&db), sqlite_rows(&db, &old, &old)), before);
    let version: u32 = db.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, 0);

    let mut pg = TestDb::new();
    pg.batch_execute(&ddl(&old).1).unwrap();
    pg.batch_execute(&fill()).unwrap();
    let before = (catalog::snapshot(&mut pg), pg_rows(&mut pg, &old, &old));
    let error = pg.batch_execute(&migration.postgres).unwrap_err();
    let message = error.as_db_error().map(|e| e.message().to_owned()).unwrap_or_default();
    assert!(message.contains("contains null values"), "{error}");
    pg.batch_execute("ROLLBACK").unwrap();
    assert_eq!((catalog::snapshot(&mut pg), pg_rows(&mut pg, &old, &old)), before);
}
