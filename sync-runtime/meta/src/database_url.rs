//! Database URLs as users write them (`postgres://...` with libpq's TLS parameters,
//! `sqlite:<path>`), and the one way a URL is shown in a message or a log line: without its
//! password.

mod postgres;

use std::fmt;
use std::path::PathBuf;

pub use self::postgres::{PostgresUrl, RootCert, SslMode, Tls};

/// The database a `--database-url` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `postgres://...` or `postgresql://...`, with its TLS settings.
    Postgres(PostgresUrl),
    /// `sqlite:<path>` (also `sqlite://<path>`): a database file.
    Sqlite(PathBuf),
}

/// Why a URL names no database this project can open; the message shows the URL redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlError {
    /// Neither `postgres://` nor `sqlite:`.
    Scheme(String),
    /// `sqlite:` with nothing after it.
    SqliteWithoutPath,
    /// An `sslmode` libpq does not have, or that this project does not support (`allow`).
    SslMode { url: String, value: String },
    /// `sslrootcert=` with nothing after it.
    EmptyRootCert(String),
    /// `sslrootcert=system` with an `sslmode` weaker than `verify-full`, which libpq refuses.
    SystemRootsNeedVerifyFull { url: String, mode: SslMode },
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlError::Scheme(shown) => write!(
                f,
                "`{shown}` names no supported database: use `postgres://user:password@host/db` \
                 or `sqlite:<path>` (like `sqlite:sync.db`)"
            ),
            UrlError::SqliteWithoutPath => {
                write!(f, "`sqlite:` names no file: use `sqlite:<path>`, like `sqlite:sync.db`")
            }
            UrlError::SslMode { url, value } => write!(
                f,
                "`{url}`: sslmode={value} is not supported: use disable, prefer, require, \
                 verify-ca or verify-full"
            ),
            UrlError::EmptyRootCert(url) => write!(
                f,
                "`{url}`: sslrootcert names no file: give the PEM file of the server's CA, or \
                 `system` for the platform's trusted roots"
            ),
            UrlError::SystemRootsNeedVerifyFull { url, mode } => write!(
                f,
                "`{url}`: sslmode={mode} cannot be used with sslrootcert=system (the platform's \
                 roots prove an identity only together with the host name): use \
                 sslmode=verify-full"
            ),
        }
    }
}

impl std::error::Error for UrlError {}

impl DatabaseUrl {
    /// The database `url` names.
    pub fn parse(url: &str) -> Result<Self, UrlError> {
        let lower = url.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            return PostgresUrl::parse(url).map(DatabaseUrl::Postgres);
        }
        let Some(rest) =
            url.get(..7).filter(|s| s.eq_ignore_ascii_case("sqlite:")).map(|_| &url[7..])
        else {
            return Err(UrlError::Scheme(redact(url)));
        };
        // `sqlite://data/sync.db` and `sqlite:///abs/sync.db` are common spellings too.
        let path = rest.strip_prefix("//").unwrap_or(rest);
        if path.is_empty() {
            return Err(UrlError::SqliteWithoutPath);
        }
        Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
    }
}

/// Shown without a password, whichever way the URL spelled it.
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Postgres(url) => url.fmt(f),
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
        }
    }
}

/// `url` with its password replaced by `***`, wherever it is: in the user info
/// (`user:pw@host`) or in a `password=` query parameter (any case).
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    // The host follows the last `@`: a password may itself contain `@`.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_database() {
        let pg = "postgres://u:secret@localhost:5432/db";
        let Ok(DatabaseUrl::Postgres(parsed)) = DatabaseUrl::parse(pg) else { panic!("{pg}") };
        assert_eq!(parsed.as_str(), pg);
        assert!(matches!(DatabaseUrl::parse("postgresql://h/db"), Ok(DatabaseUrl::Postgres(_))));
        for (url, path) in [
            ("sqlite:sync.db", "sync.db"),
            ("sqlite://data/s.db", "data/s.db"),
            ("SQLITE:///t/s.db", "/t/s.db"),
        ] {
            assert_eq!(DatabaseUrl::parse(url), Ok(DatabaseUrl::Sqlite(path.into())), "{url}");
        }
        assert_eq!(DatabaseUrl::parse("sqlite:"), Err(UrlError::SqliteWithoutPath));
    }

    #[test]
    fn passwords_never_reach_messages() {
        for (url, shown) in [
            (
                "postgres://app:p@ss@db.internal/x?sslmode=disable",
                "postgres://app:***@db.internal/x?sslmode=disable",
            ),
            ("postgres://app@db/x?password=hunter2", "postgres://app@db/x?password=***"),
            (
                "postgresql://app@db/x?sslmode=require&PASSWORD=hunter2",
                "postgresql://app@db/x?sslmode=require&PASSWORD=***",
            ),
            ("postgres://app@db.internal/x", "postgres://app@db.internal/x"),
        ] {
            assert_eq!(DatabaseUrl::parse(url).unwrap().to_string(), shown);
            assert_eq!(redact(url), shown);
        }
        let error = DatabaseUrl::parse("mysql://root:hunter2@h/db?password=hunter2").unwrap_err();
        assert_eq!(
            error.to_string(),
            "`mysql://root:***@h/db?password=***` names no supported database: use \
             `postgres://user:password@host/db` or `sqlite:<path>` (like `sqlite:sync.db`)"
        );
    }
}
