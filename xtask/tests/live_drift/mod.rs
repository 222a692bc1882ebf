//! The live drift gate end to end: the real `cargo xtask check --database-url` against real
//! Postgres databases (one fresh database per case, from `TEST_DATABASE_URL`) and real SQLite
//! files, each made from the generated DDL and then altered by hand in exactly one way. The
//! helpers are here, the cases per database in the modules.

mod extra_sql;
mod postgres;
mod rls;
mod sqlite;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support;

use support::PgDb;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

fn schema_text() -> String {
    std::fs::read_to_string(root().join("schema.toml")).unwrap()
}

/// The example schema's generated DDL for one database (`postgres.sql` or `sqlite.sql`).
fn ddl(file: &str) -> String {
    let schema = codegen::load("schema.toml", &schema_text()).unwrap();
    codegen::generate(&schema).remove(&format!("sql/{file}")).unwrap()
}

/// `schema.toml:line:col` of a byte offset in the example schema.
fn position(text: &str, offset: usize) -> String {
    let line = text[..offset].matches('\n').count() + 1;
    let col = offset - text[..offset].rfind('\n').map_or(0, |n| n + 1) + 1;
    format!("schema.toml:{line}:{col}")
}

/// `schema.toml:line:col` of `needle` in the example schema, moved `skip` characters on.
fn at(needle: &str, skip: usize) -> String {
    let text = schema_text();
    let offset = text.find(needle).unwrap_or_else(|| panic!("`{needle}` not in schema.toml"));
    position(&text, offset + skip)
}

/// Where a table is declared: its name in `[tables.<name>]`.
fn table_at(table: &str) -> String {
    at(&format!("[tables.{table}]\n"), "[tables.".len())
}

/// Where a column is declared in `[tables.<table>.columns]`.
fn column_at(table: &str, column: &str) -> String {
    let text = schema_text();
    let section = text.find(&format!("[tables.{table}.columns]")).unwrap();
    let offset = section + text[section..].find(&format!("\n{column} = ")).unwrap() + 1;
    position(&text, offset)
}

fn xtask(args: &[&str]) -> Output {
    let schema = root().join("schema.toml");
    let mut all = vec!["check", "--schema", schema.to_str().unwrap()];
    all.extend_from_slice(args);
    Command::new(env!("CARGO_BIN_EXE_xtask")).args(&all).output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The difference lines of a human report.
fn differences(output: &Output) -> Vec<String> {
    stdout(output).lines().filter(|l| l.contains(": error[")).map(str::to_owned).collect()
}

/// Run the gate on `url` and check that it reports exactly `expected`, then exit 1.
fn assert_one(case: &str, url: &str, extra: &[&str], expected: &str) {
    let mut args = vec!["--database-url", url];
    args.extend_from_slice(extra);
    let output = xtask(&args);
    let out = stdout(&output);
    assert_eq!(
        differences(&output),
        vec![expected.to_owned()],
        "{case}:\n{out}{}",
        stderr(&output)
    );
    assert!(out.contains("error: 1 difference between"), "{case}: {out}");
    assert_eq!(output.status.code(), Some(1), "{case}: {out}");
}

fn assert_no_drift(url: &str, extra: &[&str]) {
    let mut args = vec!["--database-url", url];
    args.extend_from_slice(extra);
    let output = xtask(&args);
    let out = stdout(&output);
    assert!(differences(&output).is_empty(), "{out}{}", stderr(&output));
    assert!(out.starts_with("ok: "), "{out}");
    assert_eq!(output.status.code(), Some(0), "{out}{}", stderr(&output));
}

/// An SQLite file in a temporary folder.
struct SqliteFile {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl SqliteFile {
    /// A file made from `ddl`, then changed by `alteration`.
    fn new(ddl: &str, alteration: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.db");
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(ddl).unwrap();
        conn.execute_batch(alteration).unwrap_or_else(|e| panic!("{alteration}: {e}"));
        SqliteFile { _dir: dir, path }
    }

    fn url(&self) -> String {
        format!("sqlite:{}", self.path.display())
    }
}

#[test]
fn a_bad_or_unreachable_url_exits_2_without_its_password() {
    let output = xtask(&["--database-url", "mysql://me:hunter2@127.0.0.1/db"]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("`mysql://me:***@127.0.0.1/db` names no supported database"), "{err}");
    // Port 1 on the loopback refuses connections at once.
    let output = xtask(&["--database-url", "postgres://me:hunter2@127.0.0.1:1/db"]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("cannot connect to postgres://me:***@127.0.0.1:1/db"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn an_invalid_schema_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("schema.toml");
    std::fs::write(&schema, "[schema]\nname = 1\n").unwrap();
    let file = SqliteFile::new("", "");
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["check", "--schema", schema.to_str().unwrap(), "--database-url", &file.url()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
}
