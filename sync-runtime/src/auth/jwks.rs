//! A JWKS document's verification keys: which of its keys we can use, and which key a token names.
//!
//! Each key is parsed on its own with `jsonwebtoken`'s [`Jwk`] rather than the whole document as a
//! `JwkSet`, so that one key we do not understand (an unknown `kty`, an encryption key) is skipped
//! instead of making the whole document unusable: identity providers publish such keys next to the
//! signing keys.

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{DecodingKey, DecodingKeyKind};

use super::error::{AuthError, shown};
use super::token::Alg;

/// RSA keys shorter than this are refused (NIST SP 800-131A disallows them for signatures).
const MIN_RSA_BITS: usize = 2048;

/// The usable signing keys of one JWKS document.
#[derive(Debug)]
pub(crate) struct KeySet {
    keys: Vec<VerifyingKey>,
}

#[derive(Debug)]
struct VerifyingKey {
    kid: Option<String>,
    alg: Alg,
    key: DecodingKey,
}

impl KeySet {
    /// Parses a JWKS document, keeping the RS256 and ES256 (P-256) signing keys. A document that
    /// is not a JWKS, or holds no key we can use, is an error naming what was wrong, so a bad
    /// `--jwks` is refused at startup rather than at the first request.
    pub(crate) fn parse(document: &[u8]) -> Result<KeySet, String> {
        #[derive(serde::Deserialize)]
        struct Document {
            keys: Vec<serde_json::Value>,
        }
        let document: Document = serde_json::from_slice(document)
            .map_err(|e| format!("expected a JSON object with a `keys` array: {e}"))?;
        let mut keys = Vec::new();
        let mut skipped = Vec::new();
        for (index, value) in document.keys.into_iter().enumerate() {
            let kid = value.get("kid").and_then(|kid| kid.as_str()).map(shown);
            let name = match &kid {
                Some(kid) => format!("key {index} (`{kid}`)"),
                None => format!("key {index}"),
            };
            match serde_json::from_value::<Jwk>(value) {
                Ok(jwk) => match VerifyingKey::from_jwk(&jwk) {
                    Ok(key) => keys.push(key),
                    Err(reason) => skipped.push(format!("{name} {reason}")),
                },
                Err(e) => skipped.push(format!("{name} is not a JWK we can read: {e}")),
            }
        }
        if keys.is_empty() {
            let mut reason = "it holds no RS256 or ES256 signing key".to_owned();
            if !skipped.is_empty() {
                reason.push_str(&format!(" ({})", skipped.join("; ")));
            }
            return Err(reason);
        }
        Ok(KeySet { keys })
    }

    /// Whether the set holds a key with this id.
    pub(crate) fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|key| key.kid.as_deref() == Some(kid))
    }

    /// The key that verifies a token signed with `alg` that names `kid`. A token without a `kid`
    /// is verified with the set's only key for `alg`, if there is exactly one; a key id that is in
    /// the set but names a key for another algorithm is refused, never tried with the token's
    /// algorithm.
    pub(crate) fn find(&self, kid: Option<&str>, alg: Alg) -> Result<&DecodingKey, AuthError> {
        let Some(kid) = kid else {
            let mut candidates = self.keys.iter().filter(|key| key.alg == alg);
            return match (candidates.next(), candidates.next()) {
                (Some(only), None) => Ok(&only.key),
                _ => Err(AuthError::MissingKid { alg: alg.name() }),
            };
        };
        let mut named = self.keys.iter().filter(|key| key.kid.as_deref() == Some(kid)).peekable();
        let Some(first) = named.peek() else {
            return Err(AuthError::UnknownKid { kid: shown(kid) });
        };
        let key_alg = first.alg;
        named.find(|key| key.alg == alg).map(|key| &key.key).ok_or_else(|| {
            AuthError::KeyAlgorithmMismatch {
                alg: alg.name(),
                kid: shown(kid),
                key_alg: key_alg.name(),
            }
        })
    }
}

impl VerifyingKey {
    /// The key, if it is an RS256 or ES256 signing key; otherwise why it is skipped.
    fn from_jwk(jwk: &Jwk) -> Result<VerifyingKey, String> {
        if jwk.common.public_key_use == Some(PublicKeyUse::Encryption) {
            return Err("is an encryption key (`use: enc`)".to_owned());
        }
        let declared = jwk.common.key_algorithm;
        let (alg, expected) = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => (Alg::Rs256, KeyAlgorithm::RS256),
            AlgorithmParameters::EllipticCurve(params) if params.curve == EllipticCurve::P256 => {
                (Alg::Es256, KeyAlgorithm::ES256)
            }
            AlgorithmParameters::EllipticCurve(params) => {
                return Err(format!(
                    "is on curve {:?}; only P-256 (ES256) is supported",
                    params.curve
                ));
            }
            AlgorithmParameters::OctetKey(_) => {
                return Err("is a symmetric (`oct`) key; HS256 uses the shared secret".to_owned());
            }
            AlgorithmParameters::OctetKeyPair(_) => {
                return Err("is an OKP (EdDSA) key, which is not supported".to_owned());
            }
        };
        if let Some(declared) = declared.filter(|declared| *declared != expected) {
            return Err(format!(
                "is declared for {declared}; only RS256 and ES256 keys are supported"
            ));
        }
        let key =
            DecodingKey::from_jwk(jwk).map_err(|e| format!("has unreadable key material: {e}"))?;
        check_key_size(&key)?;
        Ok(VerifyingKey { kid: jwk.common.key_id.clone(), alg, key })
    }
}

/// Refuses key material of the wrong size, which would otherwise only fail at verification time
/// (or, for a short RSA modulus, verify signatures that are easy to forge).
fn check_key_size(key: &DecodingKey) -> Result<(), String> {
    match key.kind() {
        DecodingKeyKind::RsaModulusExponent { n, .. } => {
            let significant = n.iter().skip_while(|byte| **byte == 0).count();
            if significant * 8 < MIN_RSA_BITS {
                return Err(format!(
                    "has a {}-bit modulus; at least {MIN_RSA_BITS} bits are required",
                    significant * 8
                ));
            }
            Ok(())
        }
        // An uncompressed P-256 point: the 0x04 tag, then x and y of 32 bytes each.
        DecodingKeyKind::SecretOrDer(point) if point.len() == 65 => Ok(()),
        DecodingKeyKind::SecretOrDer(_) => {
            Err("has coordinates of the wrong length for P-256".to_owned())
        }
    }
}
