//! A `postgres://` URL and its TLS settings, read the way libpq reads `sslmode` and
//! `sslrootcert`, so that a URL copied from a provider's dashboard means here what it means to
//! `psql`. The driver (tokio-postgres) knows only `disable`, `prefer` and `require` and no
//! `sslrootcert`: [`PostgresUrl::driver_url`] is the URL in its terms, and the verification the
//! driver cannot do is [`Tls`], which the connector (`pg-tls`) carries out.

use std::fmt;
use std::path::PathBuf;

use super::{UrlError, redact};

/// `sslmode`, with libpq's meaning of each value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// No TLS.
    Disable,
    /// TLS when the server offers it, plaintext otherwise; the certificate is not checked.
    /// libpq's default, and so this project's.
    Prefer,
    /// TLS or no connection; the certificate is not checked, unless a root certificate is given
    /// (`sslrootcert`, or libpq's default file exists), when it is checked as by `VerifyCa`.
    Require,
    /// TLS with a certificate that chains to the root certificate(s); any host name.
    VerifyCa,
    /// TLS with a certificate that chains to the root certificate(s) and names the host.
    VerifyFull,
}

impl SslMode {
    /// The spellings libpq accepts, as the URL writes them.
    pub const VALUES: [(&'static str, SslMode); 5] = [
        ("disable", SslMode::Disable),
        ("prefer", SslMode::Prefer),
        ("require", SslMode::Require),
        ("verify-ca", SslMode::VerifyCa),
        ("verify-full", SslMode::VerifyFull),
    ];

    /// How the URL spells it.
    pub fn as_str(self) -> &'static str {
        Self::VALUES.iter().find(|(_, mode)| *mode == self).map_or("", |(name, _)| name)
    }

    /// The value the driver understands: it negotiates TLS, the verification is ours.
    fn driver(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => "require",
        }
    }
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `sslrootcert`: the certificates a server's chain must end in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCert {
    /// A PEM file of one or more CA certificates.
    File(PathBuf),
    /// `sslrootcert=system`: the trusted roots this program carries (see docs/server.md).
    System,
}

/// The TLS settings of a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    pub mode: SslMode,
    /// `sslrootcert` as given; `None` leaves libpq's default file (`~/.postgresql/root.crt`).
    pub root_cert: Option<RootCert>,
}

/// A `postgres://` (or `postgresql://`) URL: as given, in the driver's terms, and its TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresUrl {
    given: String,
    driver: String,
    tls: Tls,
}

impl PostgresUrl {
    /// Read the TLS parameters of `url`, which starts with `postgres://` or `postgresql://`.
    pub fn parse(url: &str) -> Result<PostgresUrl, UrlError> {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut mode = None;
        let mut root_cert = None;
        let mut kept = Vec::new();
        for param in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = param.split_once('=').unwrap_or((param, ""));
            match key {
                "sslmode" => {
                    let value = percent_decode(value);
                    let found = SslMode::VALUES.iter().find(|(name, _)| *name == value);
                    let Some((_, found)) = found else {
                        return Err(UrlError::SslMode { url: redact(url), value });
                    };
                    mode = Some(*found);
                }
                "sslrootcert" => {
                    let value = percent_decode(value);
                    root_cert = Some(match value.as_str() {
                        "" => return Err(UrlError::EmptyRootCert(redact(url))),
                        "system" => RootCert::System,
                        path => RootCert::File(PathBuf::from(path)),
                    });
                }
                _ => kept.push(param),
            }
        }
        // libpq: `sslrootcert=system` makes `verify-full` the default and refuses any weaker
        // mode, since trusting every public CA without checking the name proves nothing.
        let mode = match (mode, &root_cert) {
            (None, Some(RootCert::System)) => SslMode::VerifyFull,
            (Some(weaker), Some(RootCert::System)) if weaker != SslMode::VerifyFull => {
                return Err(UrlError::SystemRootsNeedVerifyFull { url: redact(url), mode: weaker });
            }
            (mode, _) => mode.unwrap_or(SslMode::Prefer),
        };
        kept.push(match mode.driver() {
            "disable" => "sslmode=disable",
            "prefer" => "sslmode=prefer",
            _ => "sslmode=require",
        });
        let driver = format!("{base}?{}", kept.join("&"));
        Ok(PostgresUrl { given: url.to_owned(), driver, tls: Tls { mode, root_cert } })
    }

    /// The URL as given (with its password: for connecting, never for showing).
    pub fn as_str(&self) -> &str {
        &self.given
    }

    /// The URL for the driver: `sslrootcert` taken out, and `sslmode` as the driver spells the
    /// negotiation (`verify-ca` and `verify-full` negotiate as `require`).
    pub fn driver_url(&self) -> &str {
        &self.driver
    }

    /// How the connection is encrypted and the server checked.
    pub fn tls(&self) -> &Tls {
        &self.tls
    }

    /// The same server, user and parameters, database `name`.
    pub fn with_database(&self, name: &str) -> PostgresUrl {
        let (base, query) =
            self.given.split_once('?').map_or((&*self.given, None), |(b, q)| (b, Some(q)));
        let (scheme, rest) = base.split_once("://").unwrap_or(("postgres", base));
        // The authority ends at the first `/`, as `redact` reads it.
        let authority_end = rest.find('/').unwrap_or(rest.len());
        let mut url = format!("{scheme}://{}/{}", &rest[..authority_end], percent_encode(name));
        if let Some(query) = query {
            url.push('?');
            url.push_str(query);
        }
        PostgresUrl::parse(&url).expect("the same parameters parse again")
    }
}

/// Shown without its password.
impl fmt::Display for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.given))
    }
}

/// `%XX` escapes decoded (as the driver decodes every parameter); invalid ones kept as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `text` with everything but unreserved characters `%XX`-escaped, for a URL's path.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls(url: &str) -> Tls {
        PostgresUrl::parse(url).unwrap().tls().clone()
    }

    #[test]
    fn sslmode_defaults_to_prefer_as_in_libpq() {
        let url = PostgresUrl::parse("postgres://u:pw@h:5432/db").unwrap();
        assert_eq!(url.tls(), &Tls { mode: SslMode::Prefer, root_cert: None });
        assert_eq!(url.driver_url(), "postgres://u:pw@h:5432/db?sslmode=prefer");
        assert_eq!(url.as_str(), "postgres://u:pw@h:5432/db");
    }

    #[test]
    fn verification_modes_negotiate_as_require_and_keep_other_parameters() {
        let url = PostgresUrl::parse(
            "postgres://u@h/db?connect_timeout=5&sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem",
        )
        .unwrap();
        assert_eq!(
            url.tls(),
            &Tls {
                mode: SslMode::VerifyFull,
                root_cert: Some(RootCert::File("/etc/ca.pem".into()))
            }
        );
        assert_eq!(url.driver_url(), "postgres://u@h/db?connect_timeout=5&sslmode=require");
        for (mode, driver) in [
            (SslMode::Disable, "disable"),
            (SslMode::Prefer, "prefer"),
            (SslMode::Require, "require"),
            (SslMode::VerifyCa, "require"),
        ] {
            let url = PostgresUrl::parse(&format!("postgres://h/db?sslmode={mode}")).unwrap();
            assert_eq!(url.tls().mode, mode);
            assert_eq!(url.driver_url(), format!("postgres://h/db?sslmode={driver}"));
        }
    }

    #[test]
    fn system_roots_mean_verify_full_and_refuse_weaker_modes() {
        assert_eq!(
            tls("postgres://h/db?sslrootcert=system"),
            Tls { mode: SslMode::VerifyFull, root_cert: Some(RootCert::System) }
        );
        let error =
            PostgresUrl::parse("postgres://u:hunter2@h/db?sslmode=require&sslrootcert=system")
                .unwrap_err();
        assert_eq!(
            error.to_string(),
            "`postgres://u:***@h/db?sslmode=require&sslrootcert=system`: sslmode=require cannot \
             be used with sslrootcert=system (the platform's roots prove an identity only \
             together with the host name): use sslmode=verify-full"
        );
    }

    #[test]
    fn unknown_modes_and_empty_roots_are_refused_with_the_url_redacted() {
        let error = PostgresUrl::parse("postgres://u:hunter2@h/db?sslmode=allow").unwrap_err();
        assert_eq!(
            error.to_string(),
            "`postgres://u:***@h/db?sslmode=allow`: sslmode=allow is not supported: use \
             disable, prefer, require, verify-ca or verify-full"
        );
        let error = PostgresUrl::parse("postgres://h/db?sslrootcert=").unwrap_err();
        assert!(error.to_string().contains("sslrootcert names no file"), "{error}");
    }

    #[test]
    fn another_database_keeps_the_server_and_the_parameters() {
        let url = PostgresUrl::parse("postgres://u:p@ss@h:5/admin?sslmode=require").unwrap();
        let other = url.with_database("test 1");
        assert_eq!(other.as_str(), "postgres://u:p@ss@h:5/test%201?sslmode=require");
        assert_eq!(other.tls().mode, SslMode::Require);
        let bare = PostgresUrl::parse("postgresql://h").unwrap().with_database("x");
        assert_eq!(bare.as_str(), "postgresql://h/x");
    }
}
