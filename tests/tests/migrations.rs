//! Migrations on real databases: for each schema change, a database made from version N's DDL
//! and filled with parents and children, migrated with the planned SQL, has the same catalog as
//! a fresh database of version N+1 and still every row, on SQLite and on Postgres.

use codegen::ir::Schema;
use integration_tests::pg::TestDb;
use integration_tests::{catalog, ddl, load, sqlite};

use crate::migrations_support::{fill, pg_rows, renumbered, sqlite_catalog, sqlite_rows};

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
        sqlite_migration_reaches(case.name, &old, &new, case.rebuilt);
    }
}

#[test]
fn postgres_migrations_reach_the_new_schema_and_keep_every_row() {
    for case in CASES {
        let (old, new) = versions(case);
        postgres_migration_reaches(case.name, &old, &new);
    }
}

/// A unique key made live-only (a partial unique index) and back, on both databases: each
/// migration reaches the fresh schema and keeps every row.
#[test]
fn a_unique_key_made_live_only_and_back_migrates_on_both_databases() {
    let key = |live: &str| {
        let unique = format!("unique = [{{ columns = [\"user_id\", \"name\"]{live} }}]\n");
        V1.replacen(
            "comment = \"Who wrote the books.\"\n",
            &format!("comment = \"Who wrote the books.\"\n{unique}"),
            1,
        )
    };
    let all_rows = key("");
    let live_rows = key(", live_only = true").replacen("version = 1", "version = 2", 1);
    let back = key("").replacen("version = 1", "version = 3", 1);
    let (v1, v2, v3) =
        (load("v1.toml", &all_rows), load("v2.toml", &live_rows), load("v3.toml", &back));
    let live = v2.table("author").unwrap().uniques.iter().all(|u| u.live_only);
    assert!(live, "the edit took");
    for (name, old, new) in [("make the key live-only", &v1, &v2), ("and back", &v2, &v3)] {
        sqlite_migration_reaches(name, old, new, &["author"]);
        postgres_migration_reaches(name, old, new);
    }
    // A soft-deleted row that shares its name with a live one stops the way back, as a whole.
    let migration = codegen::migrate::plan(&v2, &v3).unwrap();
    let duplicate = format!(
        "{}INSERT INTO \"author\" (\"id\", \"user_id\", \"name\", \"deleted\") VALUES (9, 'u1', 'Ann', true);",
        fill()
    );
    let db = sqlite::open(&ddl(&v2).0);
    db.execute_batch(&duplicate).unwrap();
    let error = db.execute_batch(&migration.sqlite).unwrap_err().to_string();
    assert!(error.contains("UNIQUE constraint failed"), "{error}");
    assert!(db.is_autocommit(), "the failed migration rolled its transaction back");
    let mut pg = TestDb::new();
    pg.batch_execute(&ddl(&v2).1).unwrap();
    pg.batch_execute(&duplicate).unwrap();
    let error = pg.batch_execute(&migration.postgres).unwrap_err();
    let message = error.as_db_error().map(|e| e.message().to_owned()).unwrap_or_default();
    assert!(message.contains("could not create unique index"), "{error}");
}

/// Migrate a filled SQLite database of `old` to `new` (rebuilding exactly the tables `rebuilt`):
/// it has the catalog of a fresh `new` database and still every row.
fn sqlite_migration_reaches(name: &str, old: &Schema, new: &Schema, rebuilt: &[&str]) {
    let migration = codegen::migrate::plan(old, new).unwrap();
    for table in ["author", "book"] {
        let was_rebuilt = migration.sqlite.contains(&format!("CREATE TABLE \"_migrate_{table}\""));
        let expected = rebuilt.contains(&table);
        assert_eq!(was_rebuilt, expected, "{name}: rebuild of {table}\n{}", migration.sqlite);
    }
    let db = sqlite::open(&ddl(old).0);
    db.execute_batch(&fill()).unwrap();
    let rows = sqlite_rows(&db, old, new);
    db.execute_batch(&migration.sqlite)
        .unwrap_or_else(|e| panic!("{name}: {e}\n{}", migration.sqlite));

    let fresh = sqlite::open(&ddl(new).0);
    let (migrated, expected) = (sqlite_catalog(&db), sqlite_catalog(&fresh));
    let only = |a: &[String], b: &[String]| -> Vec<String> {
        a.iter().filter(|l| !b.contains(l)).cloned().collect()
    };
    assert_eq!(
        only(&migrated, &expected),
        only(&expected, &migrated),
        "{name}: catalog lines only in the migrated database (left) and only in a fresh one (right)",
    );
    assert_eq!(sqlite_rows(&db, old, new), rows, "{name}: rows");
    let version: u32 = db.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    let state: u32 =
        db.query_row("SELECT schema_version FROM _sync_client", [], |r| r.get(0)).unwrap();
    assert_eq!((version, state), (new.version, new.version), "{name}");
    let fk: bool = db.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
    assert!(fk, "{name}: foreign keys are on again");
}

/// Migrate a filled Postgres database of `old` to `new`: it has the catalog and the sync
/// machinery of a fresh `new` database and still every row.
fn postgres_migration_reaches(name: &str, old: &Schema, new: &Schema) {
    let migration = codegen::migrate::plan(old, new).unwrap();
    let mut db = TestDb::new();
    db.batch_execute(&ddl(old).1).unwrap();
    db.batch_execute(&fill()).unwrap();
    let rows = pg_rows(&mut db, old, new);
    db.batch_execute(&migration.postgres)
        .unwrap_or_else(|e| panic!("{name}: {e}\n{}", migration.postgres));

    let mut fresh = TestDb::new();
    fresh.batch_execute(&ddl(new).1).unwrap();
    assert_eq!(
        renumbered(catalog::snapshot(&mut db)),
        renumbered(catalog::snapshot(&mut fresh)),
        "{name}"
    );
    assert_eq!(
        catalog::sync_machinery(&mut db),
        catalog::sync_machinery(&mut fresh),
        "{name}: sync machinery"
    );
    assert_eq!(pg_rows(&mut db, old, new), rows, "{name}: rows");
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
