//! Reading the server's settings from their command-line spelling: which database a URL names
//! (the `DatabaseUrl` of `sync-meta`, with the one password redaction), and which browser origins
//! CORS allows.

use axum::http::{HeaderValue, Uri};
use sync_meta::database_url::UrlError;

/// Why a setting cannot be used; each message says what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("--database-url {0}")]
    DatabaseUrl(#[from] UrlError),
    #[error(
        "--cors-origin `{origin}` is not an origin: {reason}; write the scheme, host and optional \
         port, like `https://app.example` or `http://localhost:5173`"
    )]
    CorsOrigin { origin: String, reason: &'static str },
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
    fn a_bad_database_url_names_the_flag_without_the_password() {
        let error = sync_meta::database_url::DatabaseUrl::parse("mysql://root:hunter2@h/db");
        let message = ConfigError::from(error.unwrap_err()).to_string();
        assert!(
            message.starts_with("--database-url `mysql://root:***@h/db` names no"),
            "{message}"
        );
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
