//! `cargo xtask migrate` end to end: the files it writes, what it refuses, that the drift gate
//! leaves migrations alone, and that the generated TypeScript and Rust carry the SQLite scripts.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const V1: &str = "[schema]\nname = \"m\"\nversion = 1\n\n[tables.item]\nsync = \"none\"\n\n\
                  [tables.item.columns]\nid = { type = \"integer\", primary_key = true }\n";

fn v2(extra: &str) -> String {
    V1.replacen("version = 1", "version = 2", 1) + extra
}

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask")).args(args).output().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A scratch folder with the old schema, the new one and a generated folder.
struct Scratch {
    _dir: tempfile::TempDir,
    old: String,
    new: String,
    out: PathBuf,
}

fn scratch(new: &str) -> Scratch {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.toml");
    let schema = dir.path().join("schema.toml");
    std::fs::write(&old, V1).unwrap();
    std::fs::write(&schema, new).unwrap();
    let out = dir.path().join("generated");
    let path = |p: &Path| p.to_str().unwrap().to_owned();
    Scratch { old: path(&old), new: path(&schema), out, _dir: dir }
}

impl Scratch {
    fn migrate(&self, extra: &[&str]) -> Output {
        let out = self.out.to_str().unwrap();
        let mut args = vec!["migrate", "--from", &self.old, "--schema", &self.new, "--out", out];
        args.extend_from_slice(extra);
        xtask(&args)
    }
}

#[test]
fn writes_both_scripts_numbered_by_the_new_version() {
    let s = scratch(&v2("note = { type = \"text\", nullable = true }\n"));
    let output = s.migrate(&[]);
    assert!(output.status.success(), "{}", text(&output));
    let dir = s.out.join("migrations");
    let pg = std::fs::read_to_string(dir.join("0002_v1_to_v2.postgres.sql")).unwrap();
    let lite = std::fs::read_to_string(dir.join("0002_v1_to_v2.sqlite.sql")).unwrap();
    for sql in [&pg, &lite] {
        assert!(sql.starts_with(&format!("-- {}\n", codegen::GENERATED_NOTICE)), "{sql}");
    }
    assert!(pg.contains("ALTER TABLE \"item\" ADD COLUMN \"note\" text;"), "{pg}");
    assert!(lite.contains("ALTER TABLE \"item\" ADD COLUMN \"note\" TEXT;"), "{lite}");
    assert!(text(&output).contains("0002_v1_to_v2.sqlite.sql"));

    // Named, and never overwritten without --force.
    let named = s.migrate(&["--name", "add_note"]);
    assert_eq!(named.status.code(), Some(2), "{}", text(&named));
    assert!(text(&named).contains("is a migration to version 2 already"), "{}", text(&named));
    let again = s.migrate(&[]);
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again).contains("--force"), "{}", text(&again));
    std::fs::write(dir.join("0002_v1_to_v2.sqlite.sql"), "edited").unwrap();
    let forced = s.migrate(&["--force"]);
    assert!(forced.status.success(), "{}", text(&forced));
    assert_eq!(std::fs::read_to_string(dir.join("0002_v1_to_v2.sqlite.sql")).unwrap(), lite);
}

#[test]
fn refuses_a_version_not_bumped_and_a_not_null_column_without_default() {
    let same = scratch(&(V1.to_owned() + "note = { type = \"text\", nullable = true }\n"));
    let output = same.migrate(&[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output).contains("bump `[schema] version`"), "{}", text(&output));
    assert!(!same.out.join("migrations").exists());

    let needs = scratch(&v2("rank = { type = \"integer\" }\n"));
    let output = needs.migrate(&[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output).contains("`item.rank`"), "{}", text(&output));
}

#[test]
fn the_drift_gate_does_not_call_migrations_orphans() {
    let s = scratch(&v2("note = { type = \"text\", nullable = true }\n"));
    let out = s.out.to_str().unwrap();
    let gen_output = xtask(&["gen", "--schema", &s.new, "--out", out]);
    assert!(gen_output.status.success(), "{}", text(&gen_output));
    assert!(s.migrate(&[]).status.success());
    let check = xtask(&["check", "--schema", &s.new, "--out", out]);
    assert!(check.status.success(), "{}", text(&check));
    // `gen` keeps them too.
    assert!(xtask(&["gen", "--schema", &s.new, "--out", out]).status.success());
    assert!(s.out.join("migrations/0002_v1_to_v2.postgres.sql").is_file());
}

/// The generated `sync-meta` module and Rust crate.
fn carriers(out: &Path) -> [String; 2] {
    ["ts/src/sync-meta.js", "rust/src/lib.rs"]
        .map(|f| std::fs::read_to_string(out.join(f)).unwrap())
}

#[test]
fn the_generated_code_carries_the_sqlite_scripts_in_order() {
    let s = scratch(&v2("note = { type = \"text\", nullable = true }\n"));
    let out = s.out.to_str().unwrap();
    // `migrate` regenerates what carries the script it wrote.
    assert!(s.migrate(&[]).status.success());
    let [ts, rust] = carriers(&s.out);
    assert!(ts.contains("export const sqliteMigrations = [\n  { version: 2, sql: `-- "), "{ts}");
    assert!(
        rust.contains("version: 2,\n        sqlite: ::std::borrow::Cow::Borrowed(r#\"-- "),
        "{rust}"
    );

    // A script added by hand (named as `migrate` names them) is stale until `gen`.
    let dir = s.out.join("migrations");
    std::fs::write(dir.join("0010_later.sqlite.sql"), "PRAGMA user_version = 10;\n").unwrap();
    std::fs::write(dir.join("0010_later.postgres.sql"), "SELECT 1;\n").unwrap();
    let check = xtask(&["check", "--schema", &s.new, "--out", out]);
    assert_eq!(check.status.code(), Some(1), "{}", text(&check));
    for stale in ["ts/src/sync-meta.js", "rust/src/lib.rs"] {
        assert!(text(&check).contains(stale), "{stale}: {}", text(&check));
    }
    assert!(xtask(&["gen", "--schema", &s.new, "--out", out]).status.success());
    let [ts, rust] = carriers(&s.out);
    let order = |text: &str, first: &str, second: &str| {
        let (a, b) = (text.find(first), text.find(second));
        assert!(a.is_some() && b.is_some() && a < b, "{first} before {second} in {text}");
    };
    order(&ts, "{ version: 2, sql: `", "{ version: 10, sql: `PRAGMA user_version = 10;\n` }");
    order(&rust, "version: 2,", "version: 10,");
    assert!(rust.contains("r#\"PRAGMA user_version = 10;\n\"#"), "{rust}");
    assert!(!ts.contains("SELECT 1;"), "only the SQLite scripts: {ts}");

    // An edited script is stale too; a name without its version is refused.
    std::fs::write(dir.join("0010_later.sqlite.sql"), "PRAGMA user_version = 11;\n").unwrap();
    let check = xtask(&["check", "--schema", &s.new, "--out", out]);
    assert_eq!(check.status.code(), Some(1), "{}", text(&check));
    assert!(
        text(&check).contains("+  { version: 10, sql: `PRAGMA user_version = 11;"),
        "{}",
        text(&check)
    );
    std::fs::write(dir.join("later.sqlite.sql"), "").unwrap();
    let gen_output = xtask(&["gen", "--schema", &s.new, "--out", out]);
    assert_eq!(gen_output.status.code(), Some(2), "{}", text(&gen_output));
    assert!(text(&gen_output).contains("later.sqlite.sql: a migration's name starts with"));
}
