//! The errors of authentication: why a request's credentials were refused, and why a configuration
//! cannot authenticate anyone.

use std::path::PathBuf;

use crate::protocol::ErrorCode;

/// Why a request's `Authorization` header was refused. Every message says what was wrong with the
/// credentials; none repeats the token, since it is a bearer secret and messages end up in logs.
/// Values copied from the token's header (`alg`, `kid`) are shortened and stripped of control
/// characters first, since they are chosen by whoever sent the request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no Authorization header: send `Authorization: Bearer <token>`")]
    MissingHeader,
    #[error("the Authorization header does not use the Bearer scheme: send `Bearer <token>`")]
    NotBearer,
    #[error("the Authorization header's bearer token is empty")]
    EmptyToken,
    #[error("the bearer token is not a well-formed JWT: {reason}")]
    Malformed { reason: String },
    #[error("the token is unsigned (`alg: none`); only signed tokens are accepted")]
    AlgNone,
    #[error("the token's algorithm `{alg}` is not supported; HS256, RS256 and ES256 are")]
    UnsupportedAlgorithm { alg: String },
    #[error("the token is signed with {alg}, but this server has no {missing} configured")]
    AlgorithmNotConfigured { alg: &'static str, missing: &'static str },
    #[error(
        "the {alg} token has no `kid` header, and the JWKS does not hold exactly one {alg} key to \
         use instead"
    )]
    MissingKid { alg: &'static str },
    #[error("the token's key id (`kid`) `{kid}` is not in the JWKS")]
    UnknownKid { kid: String },
    #[error("the token is signed with {alg}, but its key id `{kid}` names a {key_alg} key")]
    KeyAlgorithmMismatch { alg: &'static str, kid: String, key_alg: &'static str },
    #[error("the token's signature does not verify: it was signed with another key or altered")]
    BadSignature,
    #[error("the token has expired (its `exp` is in the past)")]
    Expired,
    #[error("the token is not valid yet (its `nbf` is in the future)")]
    NotYetValid,
    #[error("the token's audience (`aud`) is not `{expected}`")]
    WrongAudience { expected: String },
    #[error("the token has no `{claim}` claim, which is required")]
    MissingClaim { claim: String },
    #[error("the token's `{claim}` claim has the wrong type")]
    InvalidClaim { claim: String },
    #[error("the token has no `sub` claim (a non-empty string naming the user)")]
    MissingSubject,
    #[error("insecure dev auth takes `Authorization: Bearer <user id>`, and {reason}")]
    InvalidDevUserId { reason: &'static str },
}

impl AuthError {
    /// The protocol's code of the error, for the `code` of an HTTP error body.
    pub fn code(&self) -> ErrorCode {
        match self {
            AuthError::MissingHeader => ErrorCode::MissingAuthorization,
            AuthError::NotBearer => ErrorCode::NotBearer,
            AuthError::EmptyToken => ErrorCode::EmptyToken,
            AuthError::Malformed { .. } => ErrorCode::MalformedToken,
            AuthError::AlgNone => ErrorCode::UnsignedToken,
            AuthError::UnsupportedAlgorithm { .. } => ErrorCode::UnsupportedAlgorithm,
            AuthError::AlgorithmNotConfigured { .. } => ErrorCode::AlgorithmNotConfigured,
            AuthError::MissingKid { .. } => ErrorCode::MissingKid,
            AuthError::UnknownKid { .. } => ErrorCode::UnknownKid,
            AuthError::KeyAlgorithmMismatch { .. } => ErrorCode::KeyAlgorithmMismatch,
            AuthError::BadSignature => ErrorCode::BadSignature,
            AuthError::Expired => ErrorCode::TokenExpired,
            AuthError::NotYetValid => ErrorCode::TokenNotYetValid,
            AuthError::WrongAudience { .. } => ErrorCode::WrongAudience,
            AuthError::MissingClaim { .. } => ErrorCode::MissingClaim,
            AuthError::InvalidClaim { .. } => ErrorCode::InvalidClaim,
            AuthError::MissingSubject => ErrorCode::MissingSubject,
            AuthError::InvalidDevUserId { .. } => ErrorCode::InvalidDevUserId,
        }
    }
}

/// Why an [`AuthConfig`](super::AuthConfig) cannot be used. The server refuses to start on any of
/// these, so each message says what to change.
#[derive(Debug, thiserror::Error)]
pub enum AuthConfigError {
    #[error(
        "no JWT key is configured: give the HS256 shared secret (Supabase's SUPABASE_JWT_SECRET) or \
         a JWKS (file or URL); for local development only, insecure dev auth accepts any user id"
    )]
    NoKey,
    #[error(
        "insecure dev auth cannot be combined with a JWT key: drop the secret and the JWKS to \
         develop locally, or drop insecure dev auth to verify tokens"
    )]
    InsecureDevWithKey,
    #[error(
        "the HS256 secret is {len} bytes long; it must be at least {min} (RFC 7518 section 3.2)"
    )]
    ShortSecret { len: usize, min: usize },
    #[error("the JWT audience is empty; Supabase tokens carry `authenticated`")]
    EmptyAudience,
    #[error("cannot read the JWKS file {}: {source}", path.display())]
    JwksFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the JWKS URL `{url}` is not an http(s) URL: {reason}")]
    JwksUrl { url: String, reason: String },
    #[error("cannot fetch the JWKS from {url}: {reason}")]
    JwksFetch { url: String, reason: String },
    #[error("the JWKS from {origin} is not valid: {reason}")]
    JwksInvalid { origin: String, reason: String },
}

/// A value taken from a token for an error message: at most 64 characters, no control characters.
pub(crate) fn shown(value: &str) -> String {
    const MAX_CHARS: usize = 64;
    let mut out: String =
        value.chars().take(MAX_CHARS).map(|c| if c.is_control() { '?' } else { c }).collect();
    if value.chars().count() > MAX_CHARS {
        out.push_str("...");
    }
    out
}
