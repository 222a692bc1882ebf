//! A failed connection to Postgres in words: what failed (the driver's error with every cause,
//! which its `Display` leaves out) and, for the failures TLS brings, what to change. The caller
//! says where (`cannot connect to <URL, redacted>: ...`).

use std::error::Error as _;

use rustls::CertificateError;
use sync_meta::database_url::{PostgresUrl, RootCert, SslMode};
use tokio_postgres::error::SqlState;

/// `error`, met connecting to `url`, with its causes and a hint when one applies.
pub fn explain(error: &tokio_postgres::Error, url: &PostgresUrl) -> String {
    let mut out = causes(error);
    if let Some(hint) = hint(error, url) {
        out.push_str("; ");
        out.push_str(&hint);
    }
    out
}

/// The error and each of its causes, `: `-separated; a server's error with its detail.
fn causes(error: &tokio_postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        let mut out = format!("{}: {}", db.severity(), db.message());
        if let Some(detail) = db.detail() {
            out.push_str(&format!(" ({detail})"));
        }
        return out;
    }
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        // An I/O error wrapping another repeats its text.
        if !out.ends_with(&text) {
            out.push_str(&format!(": {text}"));
        }
        source = cause.source();
    }
    out
}

/// What to change, for the failures a URL's TLS settings explain.
fn hint(error: &tokio_postgres::Error, url: &PostgresUrl) -> Option<String> {
    let tls = url.tls();
    if let Some(db) = error.as_db_error() {
        // A `hostssl` rule matches only TLS connections: plaintext meets "no pg_hba.conf entry
        // ..., no encryption".
        let refused = db.code() == &SqlState::INVALID_AUTHORIZATION_SPECIFICATION
            && db.message().contains("no encryption");
        return (refused && tls.mode == SslMode::Disable).then(|| {
            "the server accepts this connection only over TLS (a hostssl rule in pg_hba.conf): \
             use sslmode=prefer, require, verify-ca or verify-full instead of sslmode=disable"
                .to_owned()
        });
    }
    if causes(error).contains("server does not support TLS") {
        return Some(format!(
            "sslmode={} needs TLS and the server does not offer it: turn `ssl` on in the \
             server's postgresql.conf, or use sslmode=prefer",
            tls.mode
        ));
    }
    let roots = match &tls.root_cert {
        Some(RootCert::File(path)) => {
            format!("the root certificate(s) of sslrootcert={}", path.display())
        }
        Some(RootCert::System) => "the platform's trusted roots (sslrootcert=system)".to_owned(),
        None => "the root certificate(s) of ~/.postgresql/root.crt".to_owned(),
    };
    match certificate_error(error)? {
        CertificateError::UnknownIssuer | CertificateError::BadSignature => Some(format!(
            "the server's certificate is not signed by {roots}: give the CA that signed it \
             with sslrootcert=<file>"
        )),
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            Some(
                "the server's certificate does not name the host of the URL: connect by a \
                 name the certificate lists, or use sslmode=verify-ca to check the chain only"
                    .to_owned(),
            )
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            Some("the server's certificate has expired: the server needs a new one".to_owned())
        }
        _ => None,
    }
}

/// The certificate error rustls raised during the handshake, if that is what failed.
fn certificate_error(error: &tokio_postgres::Error) -> Option<&CertificateError> {
    let mut source = error.source();
    while let Some(cause) = source {
        let rustls = cause.downcast_ref::<rustls::Error>().or_else(|| {
            let io = cause.downcast_ref::<std::io::Error>()?;
            io.get_ref()?.downcast_ref::<rustls::Error>()
        });
        if let Some(rustls::Error::InvalidCertificate(certificate)) = rustls {
            return Some(certificate);
        }
        source = cause.source();
    }
    None
}
