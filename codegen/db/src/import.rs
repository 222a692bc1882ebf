//! `cargo xtask import`: a `schema.toml` written from an existing Postgres schema (a Supabase
//! project, a legacy database), so that the DDL generated from it is that schema again.
//!
//! Types, defaults, keys, constraints, indexes and comments are read from the catalog and said
//! the way the format says them; sync scopes are inferred from the keys, the column names and
//! the row-level security policies, each with what it was inferred from (see `scope`). What the format cannot say is never dropped silently: it stays in the file as
//! a `# not imported:` comment and is reported as a note. The result is loaded like any
//! `schema.toml` before it is written; an inferred scope that does not validate is taken back.

mod introspect;
mod map;
mod portable;
mod scope;
mod write;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use codegen::SchemaError;
use sync_meta::database_url::{DatabaseUrl, UrlError};

use crate::live::{LiveError, postgres};
pub use write::{Note, OUTSIDE_SQL};

/// Why nothing was imported; `cargo xtask` exits 2 on each.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("--database-url {0}")]
    Url(#[from] UrlError),
    #[error("import reads a Postgres database (postgres://...), not SQLite")]
    NotPostgres,
    #[error("{0} exists; pass --force to overwrite it, or choose another --out")]
    Exists(PathBuf),
    #[error(transparent)]
    Database(#[from] LiveError),
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// What was imported and written.
#[derive(Debug)]
pub struct Imported {
    pub path: PathBuf,
    pub tables: usize,
    /// `(table, scope, what it was inferred from)` of every synced table.
    pub synced: Vec<(String, String, String)>,
    /// `(table, why)` of every table that is not synced.
    pub unsynced: Vec<(String, String)>,
    /// The user table owners were inferred from, and how it was found.
    pub users: Option<(String, String)>,
    /// What `schema.toml` does not say exactly.
    pub notes: Vec<Note>,
    /// What refers to tables outside the imported schema, kept in the `[extra_sql]` file
    /// [`OUTSIDE_SQL`](write::OUTSIDE_SQL) beside `out`.
    pub kept: Vec<String>,
    /// Problems that remain when the written file is loaded (a table without a primary key,
    /// a name the format refuses): the file needs an edit before `gen`.
    pub problems: Option<SchemaError>,
}

/// What to import, and where to.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    pub url: &'a str,
    /// The Postgres schema to import.
    pub db_schema: &'a str,
    pub out: &'a Path,
    /// Overwrite `out` when it exists.
    pub force: bool,
    /// The table whose rows are the users (`auth.users`, `profiles`); found when `None`.
    pub user_table: Option<&'a str>,
}

/// Read the schema `db_schema` of the Postgres database `url` and write it to `out` as a
/// `schema.toml` (an existing file only when `force`).
pub fn run(options: &Options<'_>) -> Result<Imported, ImportError> {
    let Options { url, db_schema, out, force, user_table } = *options;
    let DatabaseUrl::Postgres(url) = DatabaseUrl::parse(url)? else {
        return Err(ImportError::NotPostgres);
    };
    for path in [out.to_owned(), out.with_file_name(write::OUTSIDE_SQL)] {
        if path.exists() && !force {
            return Err(ImportError::Exists(path));
        }
    }
    let shown = url.to_string();
    let mut client = postgres::connect(&url, &shown)?;
    let tables = introspect::read(&mut client, &shown, db_schema)?;
    let name = url
        .driver_url()
        .parse::<::postgres::Config>()
        .ok()
        .and_then(|c| c.get_dbname().map(str::to_owned))
        .unwrap_or_else(|| "imported".into());
    let header = format!(
        "Imported by `cargo xtask import` from {shown} (schema {db_schema}).\n\
         Sync scopes are inferred from keys, column names and policies (the comment above each\n\
         `sync` line says from what): review every one, then run `cargo xtask gen`.\n\
         `# not imported:` lines are what schema.toml cannot say."
    );
    let logical = |table: &str, column: &str| {
        let column = tables.iter().find(|t| t.name == table)?.column(column)?;
        match map::column_type(column) {
            map::Mapped::Exact(ty) | map::Mapped::Approximate(ty, _) => Some(ty.logical.as_str()),
            map::Mapped::Unmapped(_) => None,
        }
    };
    let inferred = scope::infer(&tables, logical, user_table);
    let (mut scopes, mut unsynced) = (inferred.scopes, inferred.unsynced);
    let file = out
        .file_name()
        .map_or_else(|| "schema.toml".to_owned(), |n| n.to_string_lossy().into_owned());
    let mut taken_back: Vec<Note> = Vec::new();
    let (written, problems) = loop {
        let devices = on_devices(&tables, &scopes);
        let mut written = write::write(&header, &name, &tables, &scopes, &unsynced, &devices);
        let outside = |path: &str| match path {
            write::OUTSIDE_SQL => Ok(written.outside_sql.clone()),
            _ => Err("not written by import".to_owned()),
        };
        let error = match codegen::load_with(&file, &written.text, &outside) {
            Ok(schema) => {
                written.notes.extend(portable::sqlite_notes(&schema));
                break (written, None);
            }
            Err(error) => error,
        };
        let doubtful = doubtful_scopes(&error, &written.sections, &scopes);
        if doubtful.is_empty() {
            break (written, Some(error));
        }
        for (table, message) in doubtful {
            let scope = scopes.remove(&table).map(|s| s.sync).unwrap_or_default();
            let message = format!("looks synced ({scope}) but {message}; imported unsynced");
            unsynced.insert(table.clone(), message.clone());
            taken_back.push(Note { table, column: None, message });
        }
    };
    if !written.outside_sql.is_empty() {
        let path = out.with_file_name(write::OUTSIDE_SQL);
        std::fs::write(&path, &written.outside_sql)
            .map_err(|source| ImportError::Write { path, source })?;
    }
    std::fs::write(out, &written.text)
        .map_err(|source| ImportError::Write { path: out.to_owned(), source })?;
    let mut notes = taken_back;
    notes.extend(written.notes);
    let kept = written.kept;
    Ok(Imported {
        path: out.to_owned(),
        tables: tables.len(),
        synced: scopes.into_iter().map(|(t, s)| (t, s.sync, s.because)).collect(),
        unsynced: unsynced.into_iter().collect(),
        users: inferred.users,
        notes,
        kept,
        problems,
    })
}

/// The tables that go to devices as well: the synced ones and every table they reference,
/// directly or not (a table on devices cannot reference one that is only in Postgres).
fn on_devices(
    tables: &[introspect::Table],
    scopes: &BTreeMap<String, scope::Scope>,
) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = scopes.keys().cloned().collect();
    let mut pending: Vec<String> = out.iter().cloned().collect();
    while let Some(name) = pending.pop() {
        let Some(table) = tables.iter().find(|t| t.name == name) else { continue };
        for fk in table.foreign_keys.iter().filter(|fk| fk.local) {
            if out.insert(fk.ref_table.clone()) {
                pending.push(fk.ref_table.clone());
            }
        }
    }
    out
}

/// The tables whose inferred scope a problem is in, with the problem's message.
fn doubtful_scopes(
    error: &SchemaError,
    sections: &[(String, std::ops::Range<usize>)],
    scopes: &BTreeMap<String, scope::Scope>,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for problem in &error.problems {
        let Some(span) = &problem.span else { continue };
        let table = sections.iter().find(|(_, range)| range.contains(&span.start));
        if let Some((table, _)) = table
            && scopes.contains_key(table)
            && !out.iter().any(|(t, _)| t == table)
        {
            out.push((table.clone(), problem.message.clone()));
        }
    }
    out
}
