//! `gen` and `check`: write the generated files, or compare them with what is on disk.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use codegen::diag::escape_property;
use codegen::{Files, SchemaError};

/// A folder of generated files: where it is, how messages name it, and whether the generator
/// owns all of it (so that a file it does not produce there is an orphan).
#[derive(Debug, Clone, Copy)]
pub struct Folder<'a> {
    pub dir: &'a Path,
    /// The folder as messages show it, relative to the workspace root (`generated`), or empty
    /// for the workspace root itself.
    pub shown: &'a str,
    pub owned: bool,
}

impl Folder<'_> {
    fn shown_path(&self, rel: &str) -> String {
        if self.shown.is_empty() { rel.to_owned() } else { format!("{}/{rel}", self.shown) }
    }

    fn rel_path<'p>(&self, shown: &'p str) -> &'p str {
        if self.shown.is_empty() {
            shown
        } else {
            shown[self.shown.len()..].trim_start_matches('/')
        }
    }
}

/// Files the generator keeps among the workspace's sources, outside `generated/`, by path
/// relative to the workspace root: the protocol's Rust types, which the runtime compiles without
/// building the generator. They do not depend on `schema.toml`.
pub fn sources() -> Files {
    Files::from([(codegen::emit::PROTOCOL_PATH.to_owned(), codegen::emit::protocol_file())])
}

/// How one generated file differs from what the generator produces; `path` is relative to the
/// workspace root, as messages show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// On disk but different; `diff` is a unified diff from the file on disk to the expected one.
    Stale { path: String, diff: String, first_line: usize },
    /// Expected but not on disk.
    Missing { path: String },
    /// On disk in the generated folder but not produced by the generator.
    Orphan { path: String },
    /// A directory where the generator produces a file.
    NotAFile { path: String },
}

impl Drift {
    pub fn path(&self) -> &str {
        match self {
            Drift::Stale { path, .. }
            | Drift::Missing { path }
            | Drift::Orphan { path }
            | Drift::NotAFile { path } => path,
        }
    }
}

/// Read and validate a schema file.
pub fn load_schema(schema_path: &Path) -> Result<Result<codegen::ir::Schema, SchemaError>, String> {
    let text = fs::read_to_string(schema_path)
        .map_err(|e| format!("cannot read {}: {e}", schema_path.display()))?;
    let name = schema_path
        .file_name()
        .map_or_else(|| schema_path.display().to_string(), |n| n.to_string_lossy().into_owned());
    Ok(codegen::load_in(&name, &text, folder(schema_path)))
}

/// The folder of a schema file, which its `[extra_sql]` paths are relative to.
pub fn folder(schema_path: &Path) -> &Path {
    schema_path.parent().unwrap_or(Path::new(""))
}

/// Every difference between the expected files (by path relative to the folder) and the folder,
/// with a diff of each stale file.
pub fn compare(expected: &Files, folder: Folder<'_>) -> io::Result<Vec<Drift>> {
    scan(expected, folder, true)
}

/// [`compare`], with the diffs of stale files only when `diffs` (otherwise empty, and
/// `first_line` 1): `gen` rewrites them and prints only their paths.
fn scan(expected: &Files, folder: Folder<'_>, diffs: bool) -> io::Result<Vec<Drift>> {
    let mut drifts = Vec::new();
    for (rel, contents) in expected {
        let target = folder.dir.join(rel);
        let path = folder.shown_path(rel);
        match fs::read(&target) {
            // A file that is not UTF-8 is stale too (shown with replacement characters), so
            // that `gen` overwrites it instead of failing to read it.
            Ok(bytes) if same_text(&bytes, contents) => {}
            Ok(_) if !diffs => {
                drifts.push(Drift::Stale { path, diff: String::new(), first_line: 1 })
            }
            Ok(bytes) => {
                let diff = crate::diff::unified(&path, &String::from_utf8_lossy(&bytes), contents);
                drifts.push(Drift::Stale { path, diff: diff.text, first_line: diff.first_line });
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => drifts.push(Drift::Missing { path }),
            Err(_) if target.is_dir() => drifts.push(Drift::NotAFile { path }),
            Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", target.display()))),
        }
    }
    if !folder.owned {
        return Ok(drifts);
    }
    for rel in files_under(folder.dir)? {
        // Migrations are history written by `cargo xtask migrate`, not regenerated.
        let migration = rel.starts_with(&format!("{}/", crate::migrate::DIR));
        if !expected.contains_key(&rel) && !migration {
            drifts.push(Drift::Orphan { path: folder.shown_path(&rel) });
        }
    }
    Ok(drifts)
}

/// Whether a file on disk holds `expected`. Line endings do not count: a Windows checkout
/// with git's `core.autocrlf` turns every LF into CRLF, and that is no drift from schema.toml.
fn same_text(actual: &[u8], expected: &str) -> bool {
    std::str::from_utf8(actual)
        .is_ok_and(|actual| actual == expected || actual.replace("\r\n", "\n") == expected)
}

/// Relative paths (with `/`) of every file below `dir`, sorted.
fn files_under(dir: &Path) -> io::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = vec![dir.to_owned()];
    while let Some(current) = stack.pop() {
        let entries = match fs::read_dir(&current) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).expect("below dir");
                let parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push(parts.join("/"));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// A readable report of the drift, ending with what to run.
pub fn render(drifts: &[Drift]) -> String {
    let mut out = String::new();
    for drift in drifts {
        match drift {
            Drift::Stale { diff, .. } => out.push_str(diff),
            Drift::Missing { path } => {
                let _ = writeln!(out, "missing: {path} (schema.toml produces it)");
            }
            Drift::Orphan { path } => {
                let _ = writeln!(out, "orphaned: {path} (schema.toml does not produce it)");
            }
            Drift::NotAFile { path } => {
                let _ = writeln!(
                    out,
                    "not a file: {path} is a directory (schema.toml produces a file there)"
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "\n{} generated file(s) out of date with schema.toml. Run `cargo xtask gen` and commit the result.",
        drifts.len()
    );
    out
}

/// GitHub Actions annotations for the drift: one on each file, one on `schema.toml`'s
/// `[schema]` section (the first line when the file has none).
pub fn annotations(drifts: &[Drift], schema_file: &str, schema_text: &str) -> String {
    let mut out = String::new();
    for drift in drifts {
        let (line, what) = match drift {
            Drift::Stale { first_line, .. } => (*first_line, "is stale"),
            Drift::Missing { .. } => (1, "is missing"),
            Drift::Orphan { .. } => (1, "is not produced by schema.toml"),
            Drift::NotAFile { .. } => (1, "is a directory, not a file"),
        };
        let _ = writeln!(
            out,
            "::error file={},line={line},title=schema drift::{} {what}; run `cargo xtask gen`",
            escape_property(drift.path()),
            drift.path()
        );
    }
    let line = schema_text
        .lines()
        .position(|l| l.trim_start().starts_with("[schema]"))
        .map_or(1, |i| i + 1);
    let _ = writeln!(
        out,
        "::error file={},line={line},title=schema drift::{} generated file(s) do not match {schema_file}; run `cargo xtask gen` and commit",
        escape_property(schema_file),
        drifts.len()
    );
    out
}

/// Make the folder hold exactly `files`: write what changed (through a temporary file and a
/// rename, so no file is ever half-written) and remove orphans, and directories where a file
/// belongs. Returns the changed paths, as messages show them.
pub fn write_all(files: &Files, folder: Folder<'_>) -> io::Result<Vec<String>> {
    let mut changed = Vec::new();
    for drift in scan(files, folder, false)? {
        let rel = folder.rel_path(drift.path());
        let target = folder.dir.join(rel);
        if let Drift::NotAFile { .. } = drift {
            fs::remove_dir_all(&target)?;
        }
        match &drift {
            // An orphan inside a directory replaced above by a file is already gone.
            Drift::Orphan { .. } => match fs::remove_file(&target) {
                Err(e)
                    if !matches!(
                        e.kind(),
                        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                    ) =>
                {
                    return Err(e);
                }
                _ => {}
            },
            Drift::Stale { .. } | Drift::Missing { .. } | Drift::NotAFile { .. } => {
                fs::create_dir_all(target.parent().expect("a file has a parent"))?;
                let tmp = target.with_extension("xtask-tmp");
                fs::write(&tmp, &files[rel])?;
                fs::rename(&tmp, &target)?;
            }
        }
        changed.push(drift.path().to_owned());
    }
    Ok(changed)
}
