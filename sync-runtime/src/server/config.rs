//! Reading the server's settings from their command-line spelling: which database a URL names,
//! and which browser origins CORS allows.

use std::path::PathBuf;

use axum::http::{HeaderValue, Uri};

/// The database a `--database-url` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `postgres://...` or `postgresql://...`, kept whole for the driver.
    Postgres(String),
    /// `sqlite:<path>` (also `sqlite://<path>`): the embedded store's file.
    Sqlite(PathBuf),
}

/// Why a setting cannot be used; each message says what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "--database-url `{0}` names no supported database: use `postgres://user:password@host/db` \
         or `sqlite:<path>` (like the default `sqlite:sync.db`)"
    )]
    DatabaseScheme(String),
    #[error("--database-url `sqlite:` names no file: use `sqlite:<path>`, like `sqlite:sync.db`")]
    SqliteWithoutPath,
    #[error(
        "--cors-origin `{origin}` is not an origin: {reason}; write the scheme, host and optional \
         port, like `https://app.example` or `http://localhost:5173`"
    )]
    CorsOrigin { origin: String, reason: &'static str },
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, ConfigError> {
        let lower = url.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_owned()));
        }
        let Some(rest) =
            url.get(..7).filter(|s| s.eq_ignore_ascii_case("sqlite:")).map(|_| &url[7..])
        else {
            return Err(ConfigError::DatabaseScheme(redacted(url)));
        };
        // `sqlite://data/sync.db` and `sqlite:///abs/sync.db` are common spellings too.
        let path = rest.strip_prefix("//").unwrap_or(rest);
        if path.is_empty() {
            return Err(ConfigError::SqliteWithoutPath);
        }
        Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
    }

    /// The URL for messages and logs, without a password.
    pub fn display(&self) -> String {
        match self {
            DatabaseUrl::Postgres(url) => redacted(url),
            DatabaseUrl::Sqlite(path) => format!("sqlite:{}", path.display()),
        }
    }
}

/// `url` with the password of its user info, if any, replaced by `***`.
fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user_info, host)) if user_info.contains(':') => {
            let user = user_info.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}{tail}")
        }
        _ => url.to_owned(),
    }
}

/// A browser origin as browsers send it in `Origin`: scheme, host, optional port, nothing else,
/// so that a trailing slash or a path cannot make an allow-list entry silently match nothing.
pub fn cors_origin(origin: &str) -> Result<HeaderValue, ConfigError> {
    let fail = |reason| ConfigError::CorsOrigin { origin: origin.to_owned(), reason };
    if origin == "*" {
        return Err(fail("`*` would let every site call the server with its users' tokens"));
    }
    let uri: Uri = origin.parse().map_err(|_| fail("it does not parse as a URL"))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => return Err(fail("it does not start with http:// or https://")),
    }
    if uri.authority().is_none_or(|a| a.host().is_empty()) {
        return Err(fail("it has no host"));
    }
    if !origin.ends_with(uri.authority().map_or("", |a| a.as_str())) {
        return Err(fail("it has a path, a query or a trailing slash"));
    }
    HeaderValue::from_str(origin).map_err(|_| fail("it is not valid in an HTTP header"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_name_their_store() {
        let pg = "postgres://u:secret@localhost:5432/db";
        assert_eq!(DatabaseUrl::parse(pg), Ok(DatabaseUrl::Postgres(pg.into())));
        assert!(matches!(DatabaseUrl::parse("postgresql://h/db"), Ok(DatabaseUrl::Postgres(_))));
        for (url, path) in [
            ("sqlite:sync.db", "sync.db"),
            ("sqlite://data/s.db", "data/s.db"),
            ("SQLITE:///t/s.db", "/t/s.db"),
        ] {
            assert_eq!(DatabaseUrl::parse(url), Ok(DatabaseUrl::Sqlite(path.into())), "{url}");
        }
        assert_eq!(DatabaseUrl::parse("sqlite:"), Err(ConfigError::SqliteWithoutPath));
        let error = DatabaseUrl::parse("mysql://root:hunter2@h/db").unwrap_err().to_string();
        assert!(error.contains("mysql://root:***@h/db"), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
    }

    #[test]
    fn passwords_never_reach_messages() {
        let url = DatabaseUrl::parse("postgres://app:p@ss@db.internal/x?sslmode=disable").unwrap();
        assert_eq!(url.display(), "postgres://app:***@db.internal/x?sslmode=disable");
        let url = DatabaseUrl::parse("postgres://app@db.internal/x").unwrap();
        assert_eq!(url.display(), "postgres://app@db.internal/x");
    }

    #[test]
    fn cors_origins_are_bare_origins() {
        for ok in ["https://app.example", "http://localhost:5173", "http://127.0.0.1:8080"] {
            assert_eq!(cors_origin(ok).unwrap(), ok);
        }
        for bad in ["*", "app.example", "https://app.example/", "https://app.example/x", "ftp://h"]
        {
            let error = cors_origin(bad).unwrap_err().to_string();
            assert!(error.contains(bad), "{error}");
        }
    }
}
