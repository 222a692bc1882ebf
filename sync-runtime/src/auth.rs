//! Authentication of sync requests: the `Authorization: Bearer <JWT>` header in, the user id out
//! (docs/sync.md).
//!
//! An [`Authenticator`] verifies tokens with the keys of its [`AuthConfig`]:
//! - HS256 with a shared secret (Supabase's `SUPABASE_JWT_SECRET`), whose bytes are used as given;
//! - RS256 and ES256 (P-256) with the keys of a JWKS document, read once from a file, or fetched
//!   from a URL and cached: refreshed in the background every few minutes, and refetched when a
//!   token names a key id the cache lacks (at most twice a minute, whatever tokens arrive).
//!
//! A token is accepted when its algorithm is one of these three and a configured key verifies it:
//! an HS256 token only with the secret, an RS256 or ES256 token only with the JWKS key its `kid`
//! names, of that algorithm. So `alg: none`, an algorithm without a configured key, and the classic
//! confusion (an HS256 token "signed" with a public key from the JWKS as HMAC secret) are refused
//! before any signature check. Then the claims: `exp` is required and must be in the future, `nbf`
//! (when present) in the past, both with [`AuthConfig::leeway_secs`] of tolerance for clock skew;
//! `aud` is required and must be the configured audience; `sub`, a non-empty string, is the user
//! id.
//!
//! **Insecure dev auth** ([`AuthConfig::insecure_dev`]) is for local development only: the bearer
//! value is taken as the user id as is (`Authorization: Bearer alice`), with no JWT and no check,
//! so anyone can act as any user. A JWT is refused in this mode rather than trusted unverified,
//! since a client that sends one expects it to be checked. It cannot be combined with a key. The
//! server must log [`INSECURE_DEV_WARNING`] loudly when [`Authenticator::is_insecure_dev`].

mod error;
mod jwks;
mod remote;
mod token;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use jsonwebtoken::DecodingKey;

pub use error::{AuthConfigError, AuthError};
use jwks::KeySet;
use remote::RemoteJwks;
pub(crate) use token::bearer_token;
use token::{Alg, ClaimRules};

/// The audience of Supabase's user tokens.
pub const DEFAULT_AUDIENCE: &str = "authenticated";
/// The default tolerance for clock skew between the token's issuer and this server.
pub const DEFAULT_LEEWAY_SECS: u64 = 10;
/// The shortest HS256 secret accepted: RFC 7518 section 3.2 asks for a key as long as the hash.
pub const MIN_HS256_SECRET_BYTES: usize = 32;
/// What the server logs, as a warning, when it runs with insecure dev auth.
pub const INSECURE_DEV_WARNING: &str = "INSECURE DEV AUTH IS ON: `Authorization: Bearer <user id>` \
     is trusted without any check, so anyone can act as any user. Use it only on a development \
     machine; give --jwt-secret or --jwks to verify tokens.";

/// How to authenticate requests: at least one key, or insecure dev auth.
#[derive(Clone)]
pub struct AuthConfig {
    /// The HS256 shared secret, as bytes (Supabase's `SUPABASE_JWT_SECRET` as given).
    pub hs256_secret: Option<Vec<u8>>,
    /// Where the RS256/ES256 public keys are.
    pub jwks: Option<JwksSource>,
    /// The `aud` every token must carry.
    pub audience: String,
    /// Take the bearer value as the user id, unchecked (see the module documentation).
    pub insecure_dev: bool,
    /// Seconds of tolerance on `exp` and `nbf`.
    pub leeway_secs: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            hs256_secret: None,
            jwks: None,
            audience: DEFAULT_AUDIENCE.to_owned(),
            insecure_dev: false,
            leeway_secs: DEFAULT_LEEWAY_SECS,
        }
    }
}

// Written out so that the secret never reaches a log through `{:?}`.
impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthConfig")
            .field("hs256_secret", &self.hs256_secret.as_ref().map(|_| "[redacted]"))
            .field("jwks", &self.jwks)
            .field("audience", &self.audience)
            .field("insecure_dev", &self.insecure_dev)
            .field("leeway_secs", &self.leeway_secs)
            .finish()
    }
}

/// Where a JWKS document is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    /// Read once, when the [`Authenticator`] is built.
    File(PathBuf),
    /// Fetched when the [`Authenticator`] is built, then cached and refreshed.
    Url(String),
}

impl JwksSource {
    /// The source a `--jwks <file|url>` argument names: an `http://` or `https://` URL, or else a
    /// file path.
    pub fn from_arg(arg: &str) -> JwksSource {
        let lower = arg.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            JwksSource::Url(arg.to_owned())
        } else {
            JwksSource::File(PathBuf::from(arg))
        }
    }
}

/// Verifies bearer tokens and names their user. Cheap to clone: clones share the keys and the
/// JWKS cache.
#[derive(Debug, Clone)]
pub struct Authenticator {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    mode: Mode,
    audience: String,
    leeway_secs: u64,
}

#[derive(Debug)]
enum Mode {
    InsecureDev,
    Verify { secret: Option<DecodingKey>, jwks: Option<Jwks> },
}

#[derive(Debug)]
enum Jwks {
    Fixed(KeySet),
    Remote(Arc<RemoteJwks>),
}

impl Authenticator {
    /// Checks the configuration and loads the JWKS (reading the file, or fetching the URL once).
    /// Refuses a configuration without any key unless it asks for insecure dev auth, and a JWKS
    /// that cannot be read or holds no usable key, so the server fails at startup, not at the first
    /// request.
    pub async fn new(config: AuthConfig) -> Result<Self, AuthConfigError> {
        let AuthConfig { hs256_secret, jwks, audience, insecure_dev, leeway_secs } = config;
        let mode = if insecure_dev {
            if hs256_secret.is_some() || jwks.is_some() {
                return Err(AuthConfigError::InsecureDevWithKey);
            }
            Mode::InsecureDev
        } else {
            if hs256_secret.is_none() && jwks.is_none() {
                return Err(AuthConfigError::NoKey);
            }
            if audience.is_empty() {
                return Err(AuthConfigError::EmptyAudience);
            }
            let secret = match hs256_secret {
                Some(secret) if secret.len() < MIN_HS256_SECRET_BYTES => {
                    return Err(AuthConfigError::ShortSecret {
                        len: secret.len(),
                        min: MIN_HS256_SECRET_BYTES,
                    });
                }
                Some(secret) => Some(DecodingKey::from_secret(&secret)),
                None => None,
            };
            let jwks = match jwks {
                Some(source) => Some(load_jwks(source).await?),
                None => None,
            };
            Mode::Verify { secret, jwks }
        };
        Ok(Authenticator { inner: Arc::new(Inner { mode, audience, leeway_secs }) })
    }

    /// The user id (the token's `sub`) of a request with this `Authorization` header value, or why
    /// the request is not authenticated.
    pub async fn authenticate(
        &self,
        authorization_header: Option<&str>,
    ) -> Result<String, AuthError> {
        let token = token::bearer_token(authorization_header)?;
        let (secret, jwks) = match &self.inner.mode {
            Mode::InsecureDev => return token::dev_user_id(token),
            Mode::Verify { secret, jwks } => (secret, jwks),
        };
        let header = token::read_header(token)?;
        let rules =
            ClaimRules { audience: &self.inner.audience, leeway_secs: self.inner.leeway_secs };
        let kid = header.kid.as_deref();
        match (header.alg, jwks) {
            (Alg::Hs256, _) => {
                let secret = secret.as_ref().ok_or(AuthError::AlgorithmNotConfigured {
                    alg: Alg::Hs256.name(),
                    missing: "HS256 shared secret",
                })?;
                token::verify(token, Alg::Hs256, secret, &rules)
            }
            (alg, None) => {
                Err(AuthError::AlgorithmNotConfigured { alg: alg.name(), missing: "JWKS" })
            }
            (alg, Some(Jwks::Fixed(keys))) => {
                token::verify(token, alg, keys.find(kid, alg)?, &rules)
            }
            (alg, Some(Jwks::Remote(remote))) => {
                let mut keys = remote.keys();
                if let Some(kid) = kid.filter(|kid| !keys.has_kid(kid)) {
                    keys = remote.keys_with_kid(kid).await;
                }
                token::verify(token, alg, keys.find(kid, alg)?, &rules)
            }
        }
    }

    /// Whether requests are authenticated by insecure dev auth; the server must then log
    /// [`INSECURE_DEV_WARNING`].
    pub fn is_insecure_dev(&self) -> bool {
        matches!(self.inner.mode, Mode::InsecureDev)
    }
}

async fn load_jwks(source: JwksSource) -> Result<Jwks, AuthConfigError> {
    match source {
        JwksSource::File(path) => {
            // A small file read once at startup: blocking the runtime for it is harmless.
            let document = std::fs::read(&path)
                .map_err(|source| AuthConfigError::JwksFile { path: path.clone(), source })?;
            let keys = KeySet::parse(&document).map_err(|reason| AuthConfigError::JwksInvalid {
                origin: path.display().to_string(),
                reason,
            })?;
            Ok(Jwks::Fixed(keys))
        }
        JwksSource::Url(url) => Ok(Jwks::Remote(RemoteJwks::load(&url).await?)),
    }
}
