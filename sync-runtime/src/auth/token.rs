//! Reading a bearer token: the `Authorization` header, the JWT's header (its algorithm and key id),
//! the signature and claims check, and the plain user id of insecure dev auth.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use super::error::{AuthError, shown};

/// Tokens longer than this are refused before any parsing; real access tokens are 1-2 KiB.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The longest user id insecure dev auth accepts.
const MAX_DEV_USER_ID_CHARS: usize = 256;

/// The algorithms we verify. Anything else a token names is refused before a key is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Alg {
    Hs256,
    Rs256,
    Es256,
}

impl Alg {
    /// The algorithm's JOSE name, as it appears in a token's `alg` header.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Alg::Hs256 => "HS256",
            Alg::Rs256 => "RS256",
            Alg::Es256 => "ES256",
        }
    }

    fn jwt(self) -> Algorithm {
        match self {
            Alg::Hs256 => Algorithm::HS256,
            Alg::Rs256 => Algorithm::RS256,
            Alg::Es256 => Algorithm::ES256,
        }
    }
}

/// What a token's header says about how to verify it.
#[derive(Debug)]
pub(crate) struct TokenHeader {
    pub(crate) alg: Alg,
    pub(crate) kid: Option<String>,
}

/// The token of an `Authorization: Bearer <token>` header. The scheme is matched without regard to
/// case, as RFC 9110 section 11.1 asks.
pub(crate) fn bearer_token(header: Option<&str>) -> Result<&str, AuthError> {
    let header = header.ok_or(AuthError::MissingHeader)?.trim();
    let (scheme, token) = header.split_once([' ', '\t']).unwrap_or((header, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::NotBearer);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(AuthError::EmptyToken);
    }
    Ok(token)
}

/// Reads the JWT's header. It is parsed here rather than by `jsonwebtoken`, whose header type
/// cannot represent `alg: none` or an algorithm it does not know, so that such tokens get an error
/// that names the algorithm instead of a generic parse failure.
pub(crate) fn read_header(token: &str) -> Result<TokenHeader, AuthError> {
    #[derive(serde::Deserialize)]
    struct RawHeader {
        alg: String,
        #[serde(default)]
        kid: Option<String>,
        #[serde(default)]
        crit: Option<serde_json::Value>,
    }
    let malformed = |reason: &str| AuthError::Malformed { reason: reason.to_owned() };
    if token.len() > MAX_TOKEN_BYTES {
        return Err(malformed("it is longer than 16 KiB"));
    }
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(malformed("expected three base64url parts separated by dots"));
    }
    let header =
        URL_SAFE_NO_PAD.decode(parts[0]).map_err(|_| malformed("its header is not base64url"))?;
    let header: RawHeader = serde_json::from_slice(&header)
        .map_err(|_| malformed("its header is not a JSON object with a string `alg`"))?;
    // RFC 7515 section 4.1.11: a recipient must refuse a token whose critical extensions it does
    // not implement, and we implement none.
    if header.crit.is_some() {
        return Err(malformed(
            "its header lists critical extensions (`crit`), which we do not support",
        ));
    }
    let alg = match header.alg.as_str() {
        "HS256" => Alg::Hs256,
        "RS256" => Alg::Rs256,
        "ES256" => Alg::Es256,
        none if none.eq_ignore_ascii_case("none") => return Err(AuthError::AlgNone),
        other => return Err(AuthError::UnsupportedAlgorithm { alg: shown(other) }),
    };
    Ok(TokenHeader { alg, kid: header.kid })
}

/// What a verified token's claims must hold.
#[derive(Debug)]
pub(crate) struct ClaimRules<'a> {
    pub(crate) audience: &'a str,
    pub(crate) leeway_secs: u64,
}

/// Verifies the token's signature with `key` under `alg` (and no other algorithm), then its claims:
/// `exp` required and in the future, `nbf` in the past when present, `aud` required and equal to
/// the configured audience, `sub` a non-empty string. Returns `sub`, the user id.
pub(crate) fn verify(
    token: &str,
    alg: Alg,
    key: &DecodingKey,
    rules: &ClaimRules<'_>,
) -> Result<String, AuthError> {
    #[derive(serde::Deserialize)]
    struct Subject {
        #[serde(default)]
        sub: Option<serde_json::Value>,
    }
    let mut validation = Validation::new(alg.jwt());
    validation.set_audience(&[rules.audience]);
    validation.set_required_spec_claims(&["exp", "aud"]);
    validation.validate_nbf = true;
    validation.leeway = rules.leeway_secs;
    let data = jsonwebtoken::decode::<Subject>(token, key, &validation)
        .map_err(|e| claims_error(e.into_kind(), rules))?;
    match data.claims.sub {
        Some(serde_json::Value::String(sub)) if !sub.is_empty() => Ok(sub),
        _ => Err(AuthError::MissingSubject),
    }
}

/// Our error for one of `jsonwebtoken`'s. It checks the signature before any claim, so a claim
/// error is only ever reported for a genuine token.
fn claims_error(kind: ErrorKind, rules: &ClaimRules<'_>) -> AuthError {
    match kind {
        ErrorKind::InvalidSignature => AuthError::BadSignature,
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
        ErrorKind::InvalidAudience => {
            AuthError::WrongAudience { expected: rules.audience.to_owned() }
        }
        ErrorKind::MissingRequiredClaim(claim) => AuthError::MissingClaim { claim },
        ErrorKind::InvalidClaimFormat(claim) => AuthError::InvalidClaim { claim },
        ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Utf8(_) => {
            AuthError::Malformed { reason: "its payload or signature is not base64url".to_owned() }
        }
        ErrorKind::Json(_) => {
            AuthError::Malformed { reason: "its payload is not a JSON object".to_owned() }
        }
        // What remains is a key the provider cannot use for the algorithm (an RSA modulus that is
        // not a valid key, say): the token cannot be verified, which to the client is a bad
        // signature.
        _ => AuthError::BadSignature,
    }
}

/// The user id of insecure dev auth: the bearer value itself. A JWT is refused rather than taken
/// as a user id, since sending one means the client expected it to be verified.
pub(crate) fn dev_user_id(token: &str) -> Result<String, AuthError> {
    let invalid = |reason| AuthError::InvalidDevUserId { reason };
    if looks_like_jwt(token) {
        return Err(invalid(
            "got a JWT: send the plain user id, or configure a key so that JWTs are verified",
        ));
    }
    if token.chars().count() > MAX_DEV_USER_ID_CHARS {
        return Err(invalid("the user id is longer than 256 characters"));
    }
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("the user id contains whitespace or control characters"));
    }
    Ok(token.to_owned())
}

/// Whether the token has a JWT's shape: three dot-separated parts, the first a JSON object.
fn looks_like_jwt(token: &str) -> bool {
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    URL_SAFE_NO_PAD.decode(header).is_ok_and(|header| {
        serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&header).is_ok()
    })
}
