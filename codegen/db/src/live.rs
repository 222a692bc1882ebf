//! `check --database-url`: the drift gate against a live database. Its catalog is compared
//! with the catalog the generated DDL makes in a disposable place of the same kind (a rolled
//! back shadow schema on Postgres, an in-memory database for SQLite), so both are printed by
//! the same database and nothing is ever written to the live one.

mod catalog;
pub(crate) mod postgres;
mod report;
mod sqlite;

use std::path::{Path, PathBuf};

use codegen::SchemaError;

pub use catalog::{Catalog, Change, Difference, Object};
pub use report::Report;

/// Why the live database could not be compared; `cargo xtask` exits 2 on each.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error(
        "--database-url {0} is not a database URL: give postgres://user:password@host/db or \
         sqlite:<path>"
    )]
    BadUrl(String),
    #[error("cannot connect to {url}: {message}")]
    Connect { url: String, message: String },
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

/// A `--database-url`: Postgres, or an SQLite file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(PathBuf),
}

impl DatabaseUrl {
    /// `postgres://` or `postgresql://`, or `sqlite:<path>` (`sqlite://<path>` too), as
    /// `sync-server` takes them.
    pub fn parse(url: &str) -> Result<Self, LiveError> {
        let lower = url.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_owned()));
        }
        match url.get(..7).filter(|s| s.eq_ignore_ascii_case("sqlite:")).map(|_| &url[7..]) {
            Some(rest) => match rest.strip_prefix("//").unwrap_or(rest) {
                "" => Err(LiveError::BadUrl(format!("{url} (no path)"))),
                path => Ok(DatabaseUrl::Sqlite(PathBuf::from(path))),
            },
            None => Err(LiveError::BadUrl(redact(url))),
        }
    }

    /// The URL for messages, without its password.
    pub fn display(&self) -> String {
        match self {
            DatabaseUrl::Postgres(url) => redact(url),
            DatabaseUrl::Sqlite(path) => format!("sqlite:{}", path.display()),
        }
    }
}

/// `url` with the password of its user info and any `password=` parameter replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                    _ => p.to_owned(),
                })
                .collect();
            format!("{path}?{}", params.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// What the gate found: the report, or the problems of an invalid `schema.toml`.
#[derive(Debug)]
pub enum Outcome {
    Report(Report),
    Invalid(SchemaError),
}

/// Compare the live database `url` (on Postgres its schema `db_schema`) with what the schema
/// at `schema_path` generates.
pub fn gate(schema_path: &Path, url: &str, db_schema: &str) -> Result<Outcome, String> {
    let database = DatabaseUrl::parse(url).map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(schema_path)
        .map_err(|e| format!("cannot read {}: {e}", schema_path.display()))?;
    let file = schema_path
        .file_name()
        .map_or_else(|| schema_path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let schema = match codegen::load(&file, &text) {
        Ok(schema) => schema,
        Err(error) => return Ok(Outcome::Invalid(error)),
    };
    let files = codegen::generate(&schema);
    let shown = database.display();
    let (expected, actual) = match &database {
        DatabaseUrl::Postgres(url) => {
            postgres::catalogs(url, &shown, db_schema, &files["sql/postgres.sql"])
        }
        DatabaseUrl::Sqlite(path) => sqlite::catalogs(path, &shown, &files["sql/sqlite.sql"]),
    }
    .map_err(|e| e.to_string())?;
    let differences = catalog::diff(&expected, &actual);
    let database = match &database {
        DatabaseUrl::Postgres(_) => format!("{shown} (schema {db_schema})"),
        DatabaseUrl::Sqlite(_) => shown,
    };
    Ok(Outcome::Report(Report::new(differences, &schema, file, &text, database)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_like_the_server_takes_them() {
        let pg = "postgresql://u:p@h/db";
        assert_eq!(DatabaseUrl::parse(pg).unwrap(), DatabaseUrl::Postgres(pg.into()));
        for url in ["sqlite:a/b.db", "SQLITE://a/b.db"] {
            assert_eq!(DatabaseUrl::parse(url).unwrap(), DatabaseUrl::Sqlite("a/b.db".into()));
        }
        for url in ["sqlite:", "mysql://u:secret@h/db", "b.db"] {
            let error = DatabaseUrl::parse(url).unwrap_err().to_string();
            assert!(!error.contains("secret"), "{error}");
        }
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://u:p@ss@h:5/db?x=1"), "postgres://u:***@h:5/db?x=1");
        assert_eq!(redact("postgres://h/db?password=s&a=b"), "postgres://h/db?password=***&a=b");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
