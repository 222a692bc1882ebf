//! `check --database-url`: the drift gate against a live database. Its catalog is compared
//! with the catalog the generated DDL makes in a disposable place of the same kind (a rolled
//! back shadow schema on Postgres, an in-memory database for SQLite), so both are printed by
//! the same database and nothing is ever written to the live one.

mod catalog;
pub(crate) mod postgres;
mod report;
mod sqlite;
mod sqlite_text;

use std::path::{Path, PathBuf};

use codegen::SchemaError;
use codegen::ir::ExtraTarget;
use sync_meta::database_url::{DatabaseUrl, UrlError};

pub use catalog::{Catalog, Change, Difference, Named, Object};
pub use report::Report;

/// Why the live database could not be compared; `cargo xtask` exits 2 on each.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("--database-url {0}")]
    Url(#[from] UrlError),
    #[error("--database-url {url} is not a Postgres URL the driver takes: {message}")]
    PostgresUrl { url: String, message: String },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot connect to {url}: {message}")]
    Connect { url: String, message: String },
    /// The URL's TLS settings cannot be used (a missing root certificate file).
    #[error("--database-url {0}")]
    Tls(String),
    #[error("{url} has no schema `{schema}`; name the schema to compare with --db-schema")]
    NoSchema { url: String, schema: String },
    #[error(
        "cannot create the shadow schema in {url} ({message}); the role needs the CREATE \
         privilege on the database (the schema is rolled back, never committed)"
    )]
    Shadow { url: String, message: String },
    #[error("the generated {file} fails on this database: {message}")]
    Ddl { file: String, message: String },
    #[error("{what}: {message}")]
    Query { what: String, message: String },
}

/// What the gate found: the report, or the problems of an invalid `schema.toml`.
#[derive(Debug)]
pub enum Outcome {
    Report(Report),
    Invalid(SchemaError),
}

/// Compare the live database `url` (on Postgres its schema `db_schema`) with what the schema
/// at `schema_path` generates.
pub fn gate(schema_path: &Path, url: &str, db_schema: &str) -> Result<Outcome, LiveError> {
    let database = DatabaseUrl::parse(url)?;
    let text = std::fs::read_to_string(schema_path)
        .map_err(|source| LiveError::Read { path: schema_path.to_owned(), source })?;
    let file = schema_path
        .file_name()
        .map_or_else(|| schema_path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let dir = schema_path.parent().unwrap_or(Path::new(""));
    let schema = match codegen::load_in(&file, &text, dir) {
        Ok(schema) => schema,
        Err(error) => return Ok(Outcome::Invalid(error)),
    };
    let files = codegen::generate(&schema);
    let shown = database.to_string();
    let (expected, actual, target) = match &database {
        DatabaseUrl::Postgres(url) => {
            let ddl = &files["sql/postgres.sql"];
            let (expected, actual) = postgres::catalogs(url, &shown, db_schema, ddl)?;
            (expected, actual, ExtraTarget::Postgres)
        }
        DatabaseUrl::Sqlite(path) => sqlite::catalogs(path, &shown, &files)?,
    };
    let differences = catalog::diff(&expected, &actual);
    let database = match &database {
        DatabaseUrl::Postgres(_) => format!("{shown} (schema {db_schema})"),
        DatabaseUrl::Sqlite(_) => shown,
    };
    Ok(Outcome::Report(Report::new(differences, &schema, target, file, &text, database)))
}
