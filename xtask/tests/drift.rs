//! The drift gate, end to end: the real `cargo xtask` binary against copies of the workspace's
//! schema.toml and generated/ (and the committed tree itself, so `cargo test` fails when
//! generated/ is stale).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
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

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// A scratch copy of schema.toml and generated/, with the arguments that point xtask at it.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(root().join("schema.toml"), dir.path().join("schema.toml")).unwrap();
        copy_dir(&root().join("generated"), &dir.path().join("generated"));
        Scratch { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn run(&self, command: &str, extra: &[&str]) -> Output {
        let schema = self.path("schema.toml");
        let out = self.path("generated");
        let mut args =
            vec![command, "--schema", schema.to_str().unwrap(), "--out", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        xtask(&args)
    }
}

#[test]
fn committed_generated_files_match_schema_toml() {
    let output = xtask(&["check"]);
    assert!(
        output.status.success(),
        "generated/ is stale; run `cargo xtask gen`:\n{}",
        text(&output)
    );
}

#[test]
fn gen_on_the_committed_tree_changes_nothing() {
    let scratch = Scratch::new();
    let output = scratch.run("gen", &[]);
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains(" 0 changed"), "{}", text(&output));
}

#[test]
fn an_edited_generated_file_is_drift_with_a_diff() {
    let scratch = Scratch::new();
    let target = scratch.path("generated/schema.schema.json");
    let edited = std::fs::read_to_string(&target).unwrap().replacen("\"title\"", "\"titel\"", 1);
    std::fs::write(&target, edited).unwrap();
    let output = scratch.run("check", &[]);
    let report = text(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(report.contains("--- generated/schema.schema.json (on disk)"), "{report}");
    assert!(report.contains("-  \"titel\": \"schema.toml\","), "{report}");
    assert!(report.contains("+  \"title\": \"schema.toml\","), "{report}");
    assert!(report.contains("Run `cargo xtask gen`"), "{report}");

    let github = scratch.run("check", &["--format", "github"]);
    let annotations = String::from_utf8_lossy(&github.stdout).into_owned();
    assert!(
        annotations.contains("::error file=generated/schema.schema.json,line=3,"),
        "{annotations}"
    );
    // The summary points at the `[schema]` section, not at line 1 (the `#:schema` comment).
    let schema = std::fs::read_to_string(scratch.path("schema.toml")).unwrap();
    let line = schema.lines().position(|l| l == "[schema]").unwrap() + 1;
    assert_ne!(line, 1);
    let summary = format!("::error file=schema.toml,line={line},title=schema drift::");
    assert!(annotations.contains(&summary), "{annotations}");

    // gen repairs it, and then check is clean.
    assert!(scratch.run("gen", &[]).status.success());
    let again = scratch.run("check", &[]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
}

#[test]
fn a_deleted_generated_file_is_drift() {
    let scratch = Scratch::new();
    std::fs::remove_file(scratch.path("generated/schema.schema.json")).unwrap();
    let output = scratch.run("check", &[]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("missing: generated/schema.schema.json"), "{}", text(&output));
}

#[test]
fn an_extra_file_in_generated_is_drift_and_gen_removes_it() {
    let scratch = Scratch::new();
    std::fs::write(scratch.path("generated/notes.txt"), "hand-written").unwrap();
    let output = scratch.run("check", &[]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("orphaned: generated/notes.txt"), "{}", text(&output));
    assert!(scratch.run("gen", &[]).status.success());
    assert!(!scratch.path("generated/notes.txt").exists());
}

#[test]
fn an_invalid_schema_exits_2_with_diagnostics_and_writes_nothing() {
    let scratch = Scratch::new();
    let schema = std::fs::read_to_string(scratch.path("schema.toml")).unwrap();
    let broken = schema.replacen("title = { type = \"text\" }", "title = { type = \"txt\" }", 1);
    assert_ne!(schema, broken, "the example schema changed; update this test's edit");
    std::fs::write(scratch.path("schema.toml"), broken).unwrap();
    let before = std::fs::read_to_string(scratch.path("generated/schema.schema.json")).unwrap();

    let check = scratch.run("check", &["--format", "github"]);
    assert_eq!(check.status.code(), Some(2), "{}", text(&check));
    let report = text(&check);
    assert!(report.contains("unknown variant `txt`"), "{report}");
    assert!(report.contains("╭─[schema.toml:"), "{report}");
    let annotations = String::from_utf8_lossy(&check.stdout).into_owned();
    assert!(annotations.contains("::error file=schema.toml,line="), "{report}");
    // The runner ends the properties at the first `::`, so the code's is escaped in the title.
    for line in annotations.lines() {
        assert_eq!(line.matches("::").count(), 2, "{line}");
    }
    assert!(annotations.contains(",title=schema%3A%3Ainvalid_value::"), "{annotations}");

    let gen_output = scratch.run("gen", &[]);
    assert_eq!(gen_output.status.code(), Some(2), "{}", text(&gen_output));
    let after = std::fs::read_to_string(scratch.path("generated/schema.schema.json")).unwrap();
    assert_eq!(before, after, "gen must not write anything for an invalid schema");
}

#[test]
fn crlf_line_endings_are_not_drift() {
    // What a Windows checkout with `core.autocrlf` makes of the committed files.
    let scratch = Scratch::new();
    let target = scratch.path("generated/sql/sqlite.sql");
    let crlf = std::fs::read_to_string(&target).unwrap().replace('\n', "\r\n");
    std::fs::write(&target, crlf).unwrap();
    let output = scratch.run("check", &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
}

#[test]
fn a_file_that_is_not_utf8_is_stale_and_gen_repairs_it() {
    let scratch = Scratch::new();
    std::fs::write(scratch.path("generated/schema.md"), b"\xff\xfe not text").unwrap();
    let output = scratch.run("check", &[]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("--- generated/schema.md (on disk)"), "{}", text(&output));
    let gen_output = scratch.run("gen", &[]);
    assert!(gen_output.status.success(), "{}", text(&gen_output));
    let again = scratch.run("check", &[]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
}

#[test]
fn a_directory_in_place_of_a_file_is_drift_and_gen_replaces_it() {
    let scratch = Scratch::new();
    let target = scratch.path("generated/schema.md");
    std::fs::remove_file(&target).unwrap();
    std::fs::create_dir_all(target.join("inner")).unwrap();
    std::fs::write(target.join("inner/notes.txt"), "hand-written").unwrap();
    let output = scratch.run("check", &["--format", "github"]);
    let report = text(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(report.contains("not a file: generated/schema.md is a directory"), "{report}");
    assert!(report.contains("orphaned: generated/schema.md/inner/notes.txt"), "{report}");
    assert!(report.contains("::error file=generated/schema.md,line=1,"), "{report}");
    let gen_output = scratch.run("gen", &[]);
    assert!(gen_output.status.success(), "{}", text(&gen_output));
    assert!(target.is_file());
    let again = scratch.run("check", &[]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
}

#[test]
fn extra_sql_is_under_the_drift_gate() {
    let scratch = Scratch::new();
    let schema = std::fs::read_to_string(scratch.path("schema.toml")).unwrap()
        + "\n[extra_sql]\npostgres = [\"sql/views.sql\"]\n";
    std::fs::write(scratch.path("schema.toml"), &schema).unwrap();
    std::fs::create_dir(scratch.path("sql")).unwrap();
    let view = "CREATE VIEW tune_titles AS SELECT id, title FROM tune WHERE NOT deleted;\n";
    std::fs::write(scratch.path("sql/views.sql"), view).unwrap();
    let gen_output = scratch.run("gen", &[]);
    assert!(gen_output.status.success(), "{}", text(&gen_output));
    let ddl = scratch.path("generated/sql/postgres.sql");
    let generated = std::fs::read_to_string(&ddl).unwrap();
    assert!(generated.ends_with(&format!("-- extra_sql: sql/views.sql\n{view}")), "{generated}");
    assert_eq!(scratch.run("check", &[]).status.code(), Some(0));

    // A hand edit of the view in the generated file is drift, shown in the diff.
    std::fs::write(&ddl, generated.replace("WHERE NOT deleted", "WHERE true")).unwrap();
    let output = scratch.run("check", &[]);
    let report = text(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(report.contains("--- generated/sql/postgres.sql (on disk)"), "{report}");
    assert!(report.contains("-CREATE VIEW tune_titles AS SELECT id, title FROM tune WHERE true;"));
    assert!(report.contains(&format!("+{}", view.trim_end())), "{report}");

    // So is an edit of the team's file that was not generated again.
    assert!(scratch.run("gen", &[]).status.success());
    std::fs::write(scratch.path("sql/views.sql"), view.replace("title", "title AS name")).unwrap();
    let output = scratch.run("check", &[]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("--- generated/sql/postgres.sql (on disk)"));

    // A missing file is an invalid schema: its path, at its schema.toml line.
    std::fs::remove_file(scratch.path("sql/views.sql")).unwrap();
    let output = scratch.run("check", &[]);
    let report = text(&output);
    assert_eq!(output.status.code(), Some(2), "{report}");
    assert!(report.contains("cannot read `sql/views.sql`: No such file"), "{report}");
    let line = schema.lines().position(|l| l.starts_with("postgres = [")).unwrap() + 1;
    assert!(report.contains(&format!("╭─[schema.toml:{line}:13]")), "{report}");
}
