//! `migrate --from <git-ref|file>`: write the migration from an earlier `schema.toml` to the
//! current one as `generated/migrations/NNNN_<name>.postgres.sql` and `.sqlite.sql`.
//!
//! Migrations are history, not regenerated: `gen` and `check` leave `generated/migrations/`
//! alone, and an existing migration is only replaced with `--force`. The generated code carries
//! the SQLite scripts ([`sqlite_scripts`]), so `migrate` regenerates it after writing one.

use std::fs;
use std::path::{Path, PathBuf};

use codegen::migrate::{self, MigrateError};
use codegen::{SchemaError, SqliteMigration};

use crate::evolve::read_earlier;

/// The folder of migrations inside the generated folder.
pub const DIR: &str = "migrations";

/// What `migrate` asks for.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The earlier schema: a file (relative to the workspace root) or a git revision.
    pub from: String,
    /// The name after the number; `v<old>_to_v<new>` when `None`.
    pub name: Option<String>,
    /// Replace migration files that exist already.
    pub force: bool,
}

/// What `migrate` did.
#[derive(Debug)]
pub enum Outcome {
    /// The files written, Postgres first.
    Written(Vec<PathBuf>),
    /// One error per invalid version (the old one first).
    Invalid(Vec<SchemaError>),
    /// The planner refuses the change.
    Refused(MigrateError),
}

/// Plan the migration from `options.from` to the schema at `schema_path` and write it below
/// `out` (the generated folder).
pub fn run(
    schema_path: &Path,
    out: &Path,
    root: &Path,
    options: &Options,
) -> Result<Outcome, String> {
    let new_text = fs::read_to_string(schema_path)
        .map_err(|e| format!("cannot read {}: {e}", schema_path.display()))?;
    let new_name = schema_path
        .file_name()
        .map_or_else(|| schema_path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let old = read_earlier(schema_path, &options.from, root)
        .map_err(|e| e.replacen("--against", "--from", 1))?;
    let (old_schema, new_schema) = match (
        codegen::load_in(&old.name, &old.text, crate::drift::folder(schema_path)),
        codegen::load_in(&new_name, &new_text, crate::drift::folder(schema_path)),
    ) {
        (Ok(old), Ok(new)) => (old, new),
        (old, new) => {
            return Ok(Outcome::Invalid([old.err(), new.err()].into_iter().flatten().collect()));
        }
    };
    let migration = match migrate::plan(&old_schema, &new_schema) {
        Ok(migration) => migration,
        Err(error) => return Ok(Outcome::Refused(error)),
    };
    let name = match &options.name {
        Some(name) => checked_name(name)?,
        None => format!("v{}_to_v{}", migration.from, migration.to),
    };
    let dir = out.join(DIR);
    let stem = format!("{:04}_{name}", migration.to);
    let files = [
        (dir.join(format!("{stem}.postgres.sql")), &migration.postgres),
        (dir.join(format!("{stem}.sqlite.sql")), &migration.sqlite),
    ];
    if !options.force {
        let existing: Vec<String> = files
            .iter()
            .filter(|(p, _)| p.exists())
            .map(|(p, _)| p.display().to_string())
            .collect();
        if !existing.is_empty() {
            return Err(format!(
                "{} already exist{}: a migration is history and is not rewritten; pass --force to \
                 replace it",
                existing.join(" and "),
                if existing.len() == 1 { "s" } else { "" }
            ));
        }
    }
    // A migration to the same version under another name would be applied twice.
    let number = format!("{:04}_", migration.to);
    if let Ok(entries) = fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let file = entry.file_name().to_string_lossy().into_owned();
            if file.starts_with(&number) && !file.starts_with(&format!("{stem}.")) {
                return Err(format!(
                    "{} is a migration to version {} already: remove it or bump `[schema] version`",
                    entry.path().display(),
                    migration.to
                ));
            }
        }
    }
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for (path, contents) in &files {
        fs::write(path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(Outcome::Written(files.into_iter().map(|(p, _)| p).collect()))
}

/// The SQLite scripts in `out`'s migrations folder (none when it has none), each with the
/// version its file name starts with (`NNNN_<name>.sqlite.sql`), sorted by version.
pub fn sqlite_scripts(out: &Path) -> Result<Vec<SqliteMigration>, String> {
    let dir = out.join(DIR);
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", dir.display())),
    };
    let mut scripts: Vec<SqliteMigration> = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?.path();
        let file = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if !file.ends_with(".sqlite.sql") {
            continue;
        }
        let version = file.split_once('_').and_then(|(number, _)| number.parse::<u32>().ok());
        let Some(version) = version else {
            return Err(format!(
                "{}: a migration's name starts with the version it leads to \
                 (`NNNN_<name>.sqlite.sql`, as `cargo xtask migrate` writes it)",
                path.display()
            ));
        };
        if scripts.iter().any(|s| s.version == version) {
            return Err(format!(
                "{}: another SQLite script in {} leads to version {version} too",
                path.display(),
                dir.display()
            ));
        }
        let sql = fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        // A checkout that turned line endings into CRLF generates the same files.
        scripts.push(SqliteMigration { version, sql: sql.replace("\r\n", "\n") });
    }
    scripts.sort_by_key(|s| s.version);
    Ok(scripts)
}

/// A `--name` that makes a plain file name.
fn checked_name(name: &str) -> Result<String, String> {
    let plain = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if name.is_empty() || !plain {
        return Err(format!(
            "--name `{name}`: use letters, digits, `_` and `-` only (it becomes part of a file name)"
        ));
    }
    Ok(name.to_owned())
}
