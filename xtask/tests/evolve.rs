//! The breaking-change gate end to end: the real `cargo xtask check --against` against an
//! earlier schema.toml in a file and at a git revision of a scratch repository.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

fn example() -> String {
    std::fs::read_to_string(root().join("schema.toml")).unwrap()
}

const INCIPIT: &str = "incipit = { type = \"text\", nullable = true }\n";

const ALLOW_INCIPIT: &str = r#"
[[evolution.allow]]
rule = "drop_column"
table = "tune"
column = "incipit"
reason = "Incipits moved to the score service; no released client reads them."
"#;

/// The example schema with `tune.incipit` dropped, and the version bumped when `bump`.
fn without_incipit(bump: bool) -> String {
    let text = example();
    assert!(text.contains(INCIPIT), "the example schema changed; update this test's edit");
    let text = text.replacen(INCIPIT, "", 1);
    if bump { bumped(&text) } else { text }
}

fn bumped(text: &str) -> String {
    let version = text.lines().find(|l| l.starts_with("version = ")).expect("a version line");
    let n: u32 = version["version = ".len()..].split_whitespace().next().unwrap().parse().unwrap();
    text.replacen(version, &format!("version = {}", n + 1), 1)
}

/// 1-based number of the first line of `text` that starts with `prefix`.
fn line_of(text: &str, prefix: &str) -> usize {
    text.lines().position(|l| l.starts_with(prefix)).expect(prefix) + 1
}

fn xtask(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command.args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A scratch folder with the example schema as `old.toml` and `new` as `schema.toml`.
fn scratch(new: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("old.toml"), example()).unwrap();
    std::fs::write(dir.path().join("schema.toml"), new).unwrap();
    dir
}

fn against_file(dir: &Path, extra: &[&str]) -> Output {
    let schema = dir.join("schema.toml");
    let old = dir.join("old.toml");
    let mut args = vec!["check", "--schema", schema.to_str().unwrap()];
    args.extend(["--against", old.to_str().unwrap()]);
    args.extend_from_slice(extra);
    xtask(&args, &[])
}

#[test]
fn a_dropped_column_exits_1_with_its_rule_line_and_recipe() {
    let dir = scratch(&without_incipit(true));
    let output = against_file(dir.path(), &[]);
    let report = text(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    let old = dir.path().join("old.toml");
    let line = line_of(&example(), "incipit =");
    assert!(report.contains("drop_column"), "{report}");
    assert!(report.contains("× column `tune.incipit` is dropped"), "{report}");
    assert!(report.contains(&format!("╭─[{}:{line}:1]", old.display())), "{report}");
    assert!(report.contains("help: expand/contract: stop writing the column"), "{report}");
    assert!(report.contains("summary: schema.toml against "), "{report}");
    assert!(report.contains("1 breaking, 0 mistake(s), 0 need(s) a backfill"), "{report}");
}

#[test]
fn an_allowance_with_a_reason_lets_it_through() {
    let dir = scratch(&(without_incipit(true) + ALLOW_INCIPIT));
    let output = against_file(dir.path(), &[]);
    let report = text(&output);
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert!(report.contains("breaking changes: 1 (1 allowed)"), "{report}");
    assert!(report.contains("allowed in schema.toml: Incipits moved"), "{report}");
    assert!(report.contains("ok: no change breaks deployed databases or clients"), "{report}");
}

#[test]
fn github_format_annotates_schema_toml_lines() {
    let new = without_incipit(false);
    let dir = scratch(&new);
    let output = against_file(dir.path(), &["--format", "github"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let annotations = String::from_utf8_lossy(&output.stdout).into_owned();
    // The dropped column is annotated on its table, which the new file still has.
    let table = line_of(&new, "[tables.tune]");
    let expected = format!(
        "::error file=schema.toml,line={table},title=drop_column::column `tune.incipit` is dropped (removed; it was "
    );
    assert!(annotations.contains(&expected), "{annotations}");
    let version = line_of(&new, "version = ");
    let expected = format!("::error file=schema.toml,line={version},title=version_not_bumped::");
    assert!(annotations.contains(&expected), "{annotations}");
    // Not bumped, the version still admits the clients of version 3 the drop breaks.
    let expected =
        format!("::error file=schema.toml,line={version},title=min_client_version_too_low::");
    assert!(annotations.contains(&expected), "{annotations}");
    // The human report goes to stderr alongside.
    assert!(String::from_utf8_lossy(&output.stderr).contains("mistakes: 2"), "{}", text(&output));
}

#[test]
fn safe_changes_pass_and_are_notices() {
    let new = bumped(&example()).replacen(
        INCIPIT,
        "incipit = { type = \"text\", nullable = true }\nkey = { type = \"text\", nullable = true }\n",
        1,
    );
    let dir = scratch(&new);
    let output = against_file(dir.path(), &["--format", "github"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let line = line_of(&new, "key = ");
    let expected = format!(
        "::notice file=schema.toml,line={line},title=add_nullable_column::column `tune.key` is added, nullable\n"
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout), expected);
}

#[test]
fn an_invalid_version_or_allowance_exits_2_with_its_position() {
    let dir =
        scratch(&(without_incipit(true) + &ALLOW_INCIPIT.replace("drop_column", "drop_colum")));
    let output = against_file(dir.path(), &[]);
    let report = text(&output);
    assert_eq!(output.status.code(), Some(2), "{report}");
    assert!(report.contains("schema::unknown_rule"), "{report}");
    assert!(report.contains("did you mean `drop_column`?"), "{report}");
    assert!(report.contains("╭─[schema.toml:"), "{report}");

    let dir = scratch(&(without_incipit(true) + &ALLOW_INCIPIT.replace("\"tune\"", "\"tunes\"")));
    let output = against_file(dir.path(), &[]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("schema::unknown_table"), "{}", text(&output));
    assert!(text(&output).contains("names table `tunes`"), "{}", text(&output));

    std::fs::write(dir.path().join("old.toml"), "[schema]\nname = 1\n").unwrap();
    let output = against_file(dir.path(), &[]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("old.toml"), "{}", text(&output));
}

/// A scratch git repository with the example schema committed at `app/schema.toml`.
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repo { dir };
        repo.git(&["init", "-q"]);
        std::fs::write(repo.dir.path().join("README"), "scratch").unwrap();
        repo.commit("readme");
        std::fs::create_dir(repo.dir.path().join("app")).unwrap();
        std::fs::write(repo.schema(), example()).unwrap();
        repo.commit("schema");
        repo
    }

    fn schema(&self) -> PathBuf {
        self.dir.path().join("app/schema.toml")
    }

    fn git(&self, args: &[&str]) {
        let status = Command::new("git")
            .arg("-C")
            .arg(self.dir.path())
            .args(["-c", "user.name=test", "-c", "user.email=test@example.invalid"])
            .args(["-c", "commit.gpgsign=false"])
            .args(args)
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    }

    fn commit(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
    }

    fn check(&self, against: &str) -> Output {
        let schema = self.schema();
        xtask(&["check", "--schema", schema.to_str().unwrap(), "--against", against], &[])
    }
}

#[test]
fn against_a_git_revision_it_reads_schema_toml_at_that_commit() {
    let repo = Repo::new();
    let unchanged = repo.check("HEAD");
    assert_eq!(unchanged.status.code(), Some(0), "{}", text(&unchanged));

    std::fs::write(repo.schema(), without_incipit(false)).unwrap();
    let output = repo.check("HEAD");
    let report = text(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    let line = line_of(&example(), "incipit =");
    assert!(report.contains(&format!("╭─[HEAD:app/schema.toml:{line}:1]")), "{report}");
    assert!(report.contains("version_not_bumped"), "{report}");

    // Committed with an allowance and a bump, the change passes against the commit before.
    std::fs::write(repo.schema(), without_incipit(true) + ALLOW_INCIPIT).unwrap();
    repo.commit("drop incipit");
    let output = repo.check("HEAD~1");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    // Against itself, the allowance is stale: a warning, not a failure.
    let output = repo.check("HEAD");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(text(&output).contains("stale_allowance"), "{}", text(&output));
}

#[test]
fn a_missing_revision_path_or_repository_is_a_clear_error() {
    let repo = Repo::new();
    let output = repo.check("no-such-branch");
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("no such commit in the git repository"), "{}", text(&output));

    let output = repo.check("HEAD~1");
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("app/schema.toml does not exist at HEAD~1"),
        "{}",
        text(&output)
    );

    let outside = tempfile::tempdir().unwrap();
    let schema = outside.path().join("schema.toml");
    std::fs::write(&schema, example()).unwrap();
    let ceiling = outside.path().parent().unwrap();
    let output = xtask(
        &["check", "--schema", schema.to_str().unwrap(), "--against", "HEAD"],
        &[("GIT_CEILING_DIRECTORIES", ceiling)],
    );
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("is not in a git repository"), "{}", text(&output));
}
