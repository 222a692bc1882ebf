//! TLS to Postgres as libpq does it, for every connection the project opens (the sync server's
//! pool and poke listener, `cargo xtask check --database-url` and `import`, the tests): the URL's
//! `sslmode` and `sslrootcert` ([`PostgresUrl`]) become a rustls client configuration with the
//! ring provider (no OpenSSL, no aws-lc), and a failed connection becomes a message that says
//! what failed and what to change ([`explain`]).
//!
//! | `sslmode` | encrypted | the certificate is checked |
//! |---|---|---|
//! | `disable` | never | - |
//! | `prefer` (the default) | when the server offers TLS | no |
//! | `require` | always | no; with a root certificate (`sslrootcert`, or `~/.postgresql/root.crt` when it exists), as `verify-ca` |
//! | `verify-ca` | always | chains to the root certificate(s), any host name |
//! | `verify-full` | always | chains to the root certificate(s) and names the host |
//!
//! `sslrootcert=system` trusts the web PKI roots compiled into the program (`webpki-roots`, the
//! same set the JWKS client uses): one trust set on every machine, including containers without
//! a CA bundle, and no file to read at startup. A private CA (Supabase's direct connections, RDS)
//! is given as a file.

mod explain;
mod verify;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};
use sync_meta::database_url::{PostgresUrl, RootCert, SslMode};

pub use self::explain::explain;
pub use tokio_postgres_rustls::MakeRustlsConnect;

/// The stream of a connection made through [`connector`], for code that names a connection's
/// type (`tokio_postgres::Connection<Socket, TlsStream>`).
pub type TlsStream =
    <MakeRustlsConnect as tokio_postgres::tls::MakeTlsConnect<tokio_postgres::Socket>>::Stream;

/// Why the TLS settings of a URL cannot be used; every message names the URL (redacted).
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// `verify-ca` or `verify-full` without `sslrootcert`, and libpq's default file is missing.
    #[error(
        "`{url}`: sslmode={mode} needs the root certificate of the server's CA, and the default \
         file {} does not exist: give it with sslrootcert=<file>, use the platform's trusted \
         roots with sslrootcert=system, or use sslmode=require to encrypt without checking the \
         server", path.display()
    )]
    NoRootCert { url: String, mode: SslMode, path: PathBuf },
    /// The root certificate file cannot be read.
    #[error("`{url}`: cannot read the root certificate file sslrootcert={}: {source}", path.display())]
    ReadRootCert { url: String, path: PathBuf, source: std::io::Error },
    /// The file holds no usable PEM certificate.
    #[error("`{url}`: sslrootcert={} holds no usable PEM certificate: {why}", path.display())]
    BadRootCert { url: String, path: PathBuf, why: String },
    /// rustls refused the configuration.
    #[error("`{url}`: cannot set up TLS: {why}")]
    Config { url: String, why: String },
}

/// What the certificate of a server must prove, per the URL's `sslmode` and `sslrootcert`.
enum Check {
    /// Nothing: encryption against eavesdroppers only.
    Nothing,
    /// A chain to these roots; any host name.
    Chain(RootCertStore),
    /// A chain to these roots and the host name.
    ChainAndName(RootCertStore),
}

/// The TLS connector for `url`, for `tokio_postgres::Config::connect`,
/// `postgres::Config::connect` or a pool manager. It reads the root certificate file now, so a
/// missing or invalid one fails here, before any connection. With `sslmode=disable` it is never
/// used.
pub fn connector(url: &PostgresUrl) -> Result<MakeRustlsConnect, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config { url: url.to_string(), why: e.to_string() })?;
    let verifier: Arc<dyn rustls::client::danger::ServerCertVerifier> = match check(url)? {
        Check::Nothing => Arc::new(verify::EncryptOnly::new(provider)),
        Check::Chain(roots) => Arc::new(verify::AnyName::new(roots, provider, url)?),
        Check::ChainAndName(roots) => verify::chain_and_name(roots, provider, url)?,
    };
    let mut config =
        builder.dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth();
    // What libpq 17 sends: a server that negotiates TLS directly requires it, others ignore it.
    config.alpn_protocols = vec![b"postgresql".to_vec()];
    Ok(MakeRustlsConnect::new(config))
}

/// libpq's rules: `prefer` never checks; `require` checks the chain when a root certificate is
/// given or its default file exists; `verify-ca` and `verify-full` need one.
fn check(url: &PostgresUrl) -> Result<Check, TlsError> {
    let tls = url.tls();
    let default = default_root_cert();
    let roots = match (tls.mode, &tls.root_cert) {
        (SslMode::Disable | SslMode::Prefer, _) => return Ok(Check::Nothing),
        (_, Some(given)) => roots(url, given)?,
        (SslMode::Require, None) => match default.filter(|path| path.is_file()) {
            Some(path) => roots(url, &RootCert::File(path))?,
            None => return Ok(Check::Nothing),
        },
        (mode, None) => match default {
            Some(path) if path.is_file() => roots(url, &RootCert::File(path))?,
            _ => {
                let path = default.unwrap_or_else(|| PathBuf::from("~/.postgresql/root.crt"));
                return Err(TlsError::NoRootCert { url: url.to_string(), mode, path });
            }
        },
    };
    Ok(match tls.mode {
        SslMode::VerifyFull => Check::ChainAndName(roots),
        _ => Check::Chain(roots),
    })
}

/// libpq's default root certificate file, `~/.postgresql/root.crt`.
fn default_root_cert() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").filter(|home| !home.is_empty())?;
    Some(Path::new(&home).join(".postgresql/root.crt"))
}

/// The trust anchors `root` names.
fn roots(url: &PostgresUrl, root: &RootCert) -> Result<RootCertStore, TlsError> {
    let path = match root {
        RootCert::System => {
            return Ok(RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() });
        }
        RootCert::File(path) => path,
    };
    let bad = |why: String| TlsError::BadRootCert { url: url.to_string(), path: path.clone(), why };
    let pem = std::fs::read(path).map_err(|source| TlsError::ReadRootCert {
        url: url.to_string(),
        path: path.clone(),
        source,
    })?;
    let mut store = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| bad(e.to_string()))?;
        store.add(cert).map_err(|e| bad(e.to_string()))?;
    }
    if store.is_empty() {
        return Err(bad("no `-----BEGIN CERTIFICATE-----` block".into()));
    }
    Ok(store)
}
