//! `check --against <git-ref|file>`: the breaking-change gate. Reads the earlier `schema.toml`
//! from a file or from git, loads both versions and classifies every change between them.

use std::fs;
use std::path::Path;
use std::process::Command;

use codegen::SchemaError;
use codegen::evolve::{self, Report, Version};

/// What the gate found: the report, or the problems that made a version unreadable.
#[derive(Debug)]
pub enum Outcome {
    Report(Report),
    /// One error per invalid version (the old one first), or the allowances that name nothing.
    Invalid(Vec<SchemaError>),
}

/// An earlier version of the schema: its text, and the name reports show for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Earlier {
    pub name: String,
    pub text: String,
}

/// Compare the schema at `schema_path` with the earlier one `against` names. `against` is a
/// file (relative to `root`) when one exists there, otherwise a git revision.
pub fn gate(schema_path: &Path, against: &str, root: &Path) -> Result<Outcome, String> {
    let new_text = fs::read_to_string(schema_path)
        .map_err(|e| format!("cannot read {}: {e}", schema_path.display()))?;
    let new_name = schema_path
        .file_name()
        .map_or_else(|| schema_path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let old = read_earlier(schema_path, against, root)?;
    let old_schema = codegen::load_in(&old.name, &old.text, crate::drift::folder(schema_path));
    let new_schema = codegen::load_in(&new_name, &new_text, crate::drift::folder(schema_path));
    let (old_schema, new_schema) = match (old_schema, new_schema) {
        (Ok(old), Ok(new)) => (old, new),
        (old, new) => {
            let errors = [old.err(), new.err()].into_iter().flatten().collect();
            return Ok(Outcome::Invalid(errors));
        }
    };
    let old = Version { file: &old.name, text: &old.text, schema: &old_schema };
    let new = Version { file: &new_name, text: &new_text, schema: &new_schema };
    Ok(match evolve::compare(old, new) {
        Ok(report) => Outcome::Report(report),
        Err(error) => Outcome::Invalid(vec![error]),
    })
}

/// The earlier schema: the file `against` when it exists, otherwise `against` as a git
/// revision, read at the path of `schema_path` within its repository.
pub fn read_earlier(schema_path: &Path, against: &str, root: &Path) -> Result<Earlier, String> {
    let file = root.join(against);
    if file.is_file() {
        let text = fs::read_to_string(&file)
            .map_err(|e| format!("--against {against}: cannot read {}: {e}", file.display()))?;
        return Ok(Earlier { name: against.to_owned(), text });
    }
    if against.starts_with('-') || against.is_empty() {
        return Err(format!("--against `{against}` is neither a file nor a git revision"));
    }
    let dir = match schema_path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let file_name = schema_path.file_name().map(|n| n.to_string_lossy().into_owned());
    let file_name = file_name.ok_or_else(|| format!("{} is not a file", schema_path.display()))?;
    let prefix = git(dir, &["rev-parse", "--show-prefix"]).map_err(|stderr| {
        format!(
            "--against {against}: there is no such file, and {} is not in a git repository to \
             read a revision from ({stderr})",
            dir.display()
        )
    })?;
    let path = format!("{}{file_name}", prefix.trim_end());
    let commit = format!("{against}^{{commit}}");
    git(dir, &["rev-parse", "--verify", "--quiet", "--end-of-options", &commit]).map_err(|_| {
        format!(
            "--against {against}: there is no such file, and no such commit in the git \
             repository of {}; give a file, a branch, a tag or a commit",
            dir.display()
        )
    })?;
    let text = git(dir, &["show", &format!("{against}:{path}")]).map_err(|stderr| {
        format!("--against {against}: {path} does not exist at {against} ({stderr})")
    })?;
    Ok(Earlier { name: format!("{against}:{path}"), text })
}

/// Run git in `dir`; its stdout on success, its first line of stderr on failure.
fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if output.status.success() {
        return String::from_utf8(output.stdout).map_err(|_| "git printed non-UTF-8 text".into());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(stderr.lines().next().unwrap_or("git failed").trim().to_owned())
}
