//! drizzle-kit (tools/ts-check's, from its lock file) as an oracle for the generated Drizzle
//! schemas, for the example schema and every test schema: `drizzle-kit push` of the `pg-core`
//! schema against a database made from `postgres.sql` plans no statement (it would otherwise
//! drop the sync cursors, indexes and tables, or rebuild keys and indexes), and the SQLite DDL
//! drizzle-kit makes of the `sqlite-core` schema refuses, for every column kind, the bad value
//! `sqlite.sql` refuses, with the same constraint, and accepts the good row `sqlite.sql` accepts.
//!
//! The team's own SQL (`[extra_sql]`) is left out of both DDLs: its views, functions and policies
//! are not in the Drizzle schemas, so drizzle-kit would plan to drop them (docs/types.md).

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use codegen::ir::{Column, LogicalType, Schema, Table, TimestampStorage};
use integration_tests::pg::TestDb;
use integration_tests::wire::sqlite_has_check;
use integration_tests::{ddl, workspace_root};
use rusqlite::Connection;

/// tools/ts-check, which holds drizzle-kit, drizzle-orm and the oracle script.
fn checker_dir() -> PathBuf {
    workspace_root().join("tools/ts-check")
}

/// A schema's generated TypeScript package, written inside tools/ts-check (so that drizzle-orm
/// resolves from its node_modules) and removed when the test ends, even when it fails.
struct Package(PathBuf);

impl Package {
    fn write(name: &str, schema: &Schema) -> Package {
        let dir = checker_dir().join(format!(".tmp-drizzle-kit-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        for (path, contents) in codegen::generate(schema) {
            let Some(path) = path.strip_prefix("ts/") else { continue };
            let target = dir.join(path);
            fs::create_dir_all(target.parent().unwrap()).unwrap();
            fs::write(target, contents).unwrap();
        }
        Package(dir)
    }

    fn module(&self, name: &str) -> PathBuf {
        self.0.join("src/drizzle").join(name)
    }
}

impl Drop for Package {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The statements the oracle script prints for `args`.
fn oracle(args: &[&str]) -> Vec<String> {
    let dir = checker_dir();
    // Missing packages must fail the test, not skip it.
    assert!(
        dir.join("node_modules/drizzle-kit").exists() && dir.join("node_modules/pg").exists(),
        "drizzle-kit is not installed: run `cargo xtask test`, or `npm ci --prefix tools/ts-check`"
    );
    let out = Command::new("node")
        .arg("drizzle-kit-oracle.mjs")
        .args(args)
        .current_dir(&dir)
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "drizzle-kit-oracle.mjs {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the oracle prints a JSON array of statements")
}

/// The schemas under test without their `[extra_sql]`, which Drizzle does not hold.
fn schemas_under_test() -> Vec<(String, Schema)> {
    let mut schemas = integration_tests::schemas_under_test();
    for (_, schema) in &mut schemas {
        schema.extra_sql.clear();
    }
    schemas
}

/// A short name for temporary folders.
fn short(name: &str) -> String {
    name.replace(['/', '.'], "_")
}

#[test]
fn drizzle_kit_push_plans_nothing_against_postgres_sql() {
    for (name, schema) in schemas_under_test() {
        if !schema.tables.iter().any(|t| t.targets.postgres) {
            continue;
        }
        let mut db = TestDb::new();
        db.batch_execute(&ddl(&schema).1).unwrap_or_else(|e| panic!("{name}: {e}"));
        let package = Package::write(&short(&name), &schema);
        let pg = package.module("pg.js");
        let planned = oracle(&["push", pg.to_str().unwrap(), &db.url()]);
        assert!(planned.is_empty(), "{name}: drizzle-kit push plans:\n{}", planned.join("\n"));
    }
}

#[test]
fn drizzle_kit_sqlite_ddl_refuses_what_sqlite_sql_refuses() {
    let mut kinds_refused = Vec::new();
    for (name, schema) in schemas_under_test() {
        if !schema.tables.iter().any(|t| t.targets.sqlite) {
            continue;
        }
        let package = Package::write(&format!("sqlite-{}", short(&name)), &schema);
        let statements = oracle(&["sqlite", package.module("sqlite.js").to_str().unwrap()]);
        let drizzle = Connection::open_in_memory().unwrap();
        for statement in &statements {
            drizzle.execute_batch(statement).unwrap_or_else(|e| panic!("{name}: {e}\n{statement}"));
        }
        let generated = Connection::open_in_memory().unwrap();
        generated.execute_batch(&ddl(&schema).0).unwrap();
        // As a sync applying pulled rows: the triggers let every table be written. The good
        // rows reference nothing that exists: foreign keys are not what is compared here.
        generated.execute_batch("UPDATE _sync_client SET applying = 1").ok();
        for db in [&generated, &drizzle] {
            db.pragma_update(None, "foreign_keys", false).unwrap();
        }
        let ts = schema.timestamp_storage;
        for table in schema.tables.iter().filter(|t| t.targets.sqlite) {
            let good = good_row(table, ts);
            for (db, which) in [(&generated, "sqlite.sql"), (&drizzle, "drizzle-kit")] {
                if let Err(e) = try_insert(db, table, &good) {
                    panic!("{name}: {which} refuses a good {} row: {e}", table.name);
                }
            }
            for (i, column) in table.columns.iter().enumerate() {
                let Some(bad) = bad_value(column, ts) else { continue };
                assert!(sqlite_has_check(column, ts), "{name}: {}.{}", table.name, column.name);
                let mut row = good.clone();
                row[i] = bad.clone();
                let what = format!("{name}: {}.{} = {bad}", table.name, column.name);
                let expected = try_insert(&generated, table, &row)
                    .expect_err(&format!("{what}: sqlite.sql accepts it"));
                let actual = try_insert(&drizzle, table, &row)
                    .map_err(|e| e.to_string())
                    .expect_err(&format!("{what}: drizzle-kit's DDL accepts it ({expected})"));
                assert_eq!(actual, expected.to_string(), "{what}");
                kinds_refused.push(kind(column));
            }
        }
    }
    kinds_refused.sort();
    kinds_refused.dedup();
    let expected = ["boolean", "bigint", "date", "integer", "json", "timestamp", "uuid", "values"]
        .map(String::from);
    let mut expected = expected.to_vec();
    expected.sort();
    assert_eq!(kinds_refused, expected, "every kind of column with a CHECK is exercised");
}

/// Inserts `values` (SQL literals) into `table` and rolls back.
fn try_insert(db: &Connection, table: &Table, values: &[String]) -> Result<(), rusqlite::Error> {
    let columns: Vec<String> = table.columns.iter().map(|c| format!("\"{}\"", c.name)).collect();
    db.execute_batch("SAVEPOINT row")?;
    let insert = format!(
        "INSERT INTO \"{}\" ({}) VALUES ({})",
        table.name,
        columns.join(", "),
        values.join(", ")
    );
    let result = db.execute_batch(&insert);
    db.execute_batch("ROLLBACK TO row; RELEASE row")?;
    result
}

/// The column kind a bad value exercises.
fn kind(column: &Column) -> String {
    if column.values.is_some() {
        return "values".into();
    }
    format!("{:?}", column.ty).to_lowercase()
}

/// A value of every column that both databases must accept, as SQL literals.
fn good_row(table: &Table, ts: TimestampStorage) -> Vec<String> {
    table
        .columns
        .iter()
        .map(|c| {
            if let Some(values) = &c.values {
                return format!("'{}'", values[0].replace('\'', "''"));
            }
            match c.ty {
                LogicalType::Uuid => "'00000000-0000-4000-8000-000000000001'".into(),
                LogicalType::Text => "'x'".into(),
                LogicalType::Integer | LogicalType::Bigint | LogicalType::Boolean => "1".into(),
                LogicalType::Real => "1.5".into(),
                LogicalType::Timestamp if ts == TimestampStorage::Integer => "1700000000000".into(),
                LogicalType::Timestamp => "'2024-01-02T03:04:05.678Z'".into(),
                LogicalType::Date => "'2024-02-29'".into(),
                LogicalType::Json => "'{}'".into(),
            }
        })
        .collect()
}

/// One value of the column's kind that its CHECK must refuse, if it has one.
fn bad_value(column: &Column, ts: TimestampStorage) -> Option<String> {
    if column.values.is_some() {
        return Some("'bogus'".into());
    }
    Some(
        match column.ty {
            LogicalType::Uuid => "'00000000-0000-4000-8000-0000000000FF'",
            LogicalType::Integer => "2147483648",
            LogicalType::Bigint => "9007199254740992",
            LogicalType::Boolean => "2",
            LogicalType::Timestamp if ts == TimestampStorage::Text => "'2024-01-01T10:00:00Z'",
            LogicalType::Date => "'2024-02-30'",
            LogicalType::Json => "'{not json'",
            _ => return None,
        }
        .into(),
    )
}
