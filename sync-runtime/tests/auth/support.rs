//! Test support for the auth tests: keys generated at test time, tokens signed with them, and a
//! JWKS served over real HTTP on 127.0.0.1.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

/// The HS256 secret the tests configure.
pub const SECRET: &[u8] = b"test-only-hs256-secret-of-at-least-32-bytes";

/// The signing keys of the tests and their public JWKs, made once per test binary: an RSA key
/// takes a moment to generate.
pub struct Keys {
    pub rsa: EncodingKey,
    pub rsa_jwk: Value,
    /// The RSA public key, DER-encoded: what a confusion attack uses as an HMAC secret.
    pub rsa_public_der: Vec<u8>,
    pub ec: EncodingKey,
    pub ec_jwk: Value,
    /// A second P-256 key that is in no JWKS.
    pub other_ec: EncodingKey,
}

pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        use p256::pkcs8::EncodePrivateKey;
        use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};

        let mut rng = rand::rngs::OsRng;
        let rsa_private = rsa::RsaPrivateKey::new(&mut rng, 2048).expect("generate an RSA key");
        let rsa_der = rsa_private.to_pkcs1_der().expect("encode the RSA key");
        let rsa = EncodingKey::from_rsa_der(rsa_der.as_bytes());
        let rsa_public_der = rsa_private
            .to_public_key()
            .to_pkcs1_der()
            .expect("encode the RSA public key")
            .as_bytes()
            .to_vec();
        let ec_key = |rng: &mut rand::rngs::OsRng| {
            let der = p256::ecdsa::SigningKey::random(rng).to_pkcs8_der().expect("encode EC key");
            EncodingKey::from_ec_der(der.as_bytes())
        };
        let ec = ec_key(&mut rng);
        let other_ec = ec_key(&mut rng);
        Keys {
            rsa_jwk: public_jwk(&rsa, Algorithm::RS256, "rsa-1"),
            ec_jwk: public_jwk(&ec, Algorithm::ES256, "ec-1"),
            rsa,
            rsa_public_der,
            ec,
            other_ec,
        }
    })
}

/// The public JWK of a private key, with a key id.
fn public_jwk(key: &EncodingKey, alg: Algorithm, kid: &str) -> Value {
    let mut jwk = Jwk::from_encoding_key(key, alg).expect("derive the public JWK");
    jwk.common.key_id = Some(kid.to_owned());
    serde_json::to_value(jwk).expect("serialize the JWK")
}

/// A JWKS document holding these keys.
pub fn jwks(keys: &[&Value]) -> Value {
    json!({ "keys": keys })
}

pub fn now() -> i64 {
    jsonwebtoken::get_current_timestamp() as i64
}

/// Claims that pass every check: user `user-1`, audience `authenticated`, valid for an hour.
pub fn good_claims() -> Value {
    json!({ "sub": "user-1", "aud": "authenticated", "exp": now() + 3600, "iat": now(),
            "role": "authenticated" })
}

/// `good_claims` with some claims replaced (or removed, with `Value::Null`).
pub fn claims_with(changes: Value) -> Value {
    let mut claims = good_claims();
    for (name, value) in changes.as_object().expect("an object of changes") {
        let object = claims.as_object_mut().expect("claims are an object");
        if value.is_null() {
            object.remove(name);
        } else {
            object.insert(name.clone(), value.clone());
        }
    }
    claims
}

/// A token signed with `key` under `alg`, naming `kid` when given.
pub fn sign(alg: Algorithm, kid: Option<&str>, claims: &Value, key: &EncodingKey) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).expect("sign the token")
}

pub fn hs256(claims: &Value) -> String {
    sign(Algorithm::HS256, None, claims, &EncodingKey::from_secret(SECRET))
}

pub fn rs256(claims: &Value) -> String {
    sign(Algorithm::RS256, Some("rsa-1"), claims, &keys().rsa)
}

pub fn es256(claims: &Value) -> String {
    sign(Algorithm::ES256, Some("ec-1"), claims, &keys().ec)
}

/// A token with this raw header and payload and the HMAC-SHA256 of both under `secret` as its
/// signature, whatever the header's `alg` says.
pub fn hmac_signed(header: &Value, claims: &Value, secret: &[u8]) -> String {
    let message = format!("{}.{}", b64_json(header), b64_json(claims));
    let signature = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &EncodingKey::from_secret(secret),
        Algorithm::HS256,
    )
    .expect("compute the HMAC");
    format!("{message}.{signature}")
}

pub fn b64_json(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("serialize"))
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// A JWKS document served on 127.0.0.1 that a test can replace, counting the requests for it.
pub struct JwksServer {
    pub url: String,
    document: Arc<Mutex<Value>>,
    hits: Arc<AtomicUsize>,
}

impl JwksServer {
    pub async fn start(document: Value) -> JwksServer {
        type Shared = (Arc<Mutex<Value>>, Arc<AtomicUsize>);
        async fn serve(State((document, hits)): State<Shared>) -> axum::Json<Value> {
            hits.fetch_add(1, Ordering::SeqCst);
            axum::Json(document.lock().expect("document lock").clone())
        }
        let document = Arc::new(Mutex::new(document));
        let hits = Arc::new(AtomicUsize::new(0));
        let app = Router::new()
            .route("/jwks.json", get(serve))
            .with_state((Arc::clone(&document), Arc::clone(&hits)));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("local address");
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve the JWKS") });
        JwksServer { url: format!("http://{address}/jwks.json"), document, hits }
    }

    pub fn replace(&self, document: Value) {
        *self.document.lock().expect("document lock") = document;
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}
