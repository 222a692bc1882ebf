//! End-to-end refusals of bad credentials (issue 4, docs/sync.md), on both stores: a real server on
//! 127.0.0.1 that verifies HS256 tokens with a secret and RS256/ES256 tokens with a JWKS file made
//! at test time. Every bad token is answered 401 with the protocol's error body and a `Bearer`
//! challenge, and writes nothing although its request carries valid changes; the same request
//! with a good token of each algorithm is then accepted, which shows the setup and the changes
//! were valid.

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use integration_tests::server::{Options, SECRET, Served, request};
use integration_tests::sync::*;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use reqwest::header::WWW_AUTHENTICATE;
use serde_json::{Value, json};
use sync_runtime::auth::{AuthConfig, JwksSource};

integration_tests::for_each_store!(bad_tokens_are_401_and_write_nothing);

/// The signing keys, made once per test binary (an RSA key takes a moment), and the JWKS
/// document of their public halves.
struct Keys {
    rsa: EncodingKey,
    /// The RSA public key, DER-encoded: what an algorithm confusion attack uses as HMAC secret.
    rsa_public_der: Vec<u8>,
    ec: EncodingKey,
    jwks: Value,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        use p256::pkcs8::EncodePrivateKey;
        use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};

        let mut rng = rand::rngs::OsRng;
        let rsa_private = rsa::RsaPrivateKey::new(&mut rng, 2048).expect("generate an RSA key");
        let rsa = EncodingKey::from_rsa_der(rsa_private.to_pkcs1_der().expect("DER").as_bytes());
        let rsa_public_der =
            rsa_private.to_public_key().to_pkcs1_der().expect("DER").as_bytes().to_vec();
        let ec_private = p256::ecdsa::SigningKey::random(&mut rng);
        let ec = EncodingKey::from_ec_der(ec_private.to_pkcs8_der().expect("DER").as_bytes());
        let public = |key: &EncodingKey, alg, kid: &str| {
            let mut jwk = Jwk::from_encoding_key(key, alg).expect("derive the public JWK");
            jwk.common.key_id = Some(kid.to_owned());
            serde_json::to_value(jwk).expect("serialize the JWK")
        };
        let jwks = json!({ "keys": [public(&rsa, Algorithm::RS256, "rsa-1"),
                                    public(&ec, Algorithm::ES256, "ec-1")] });
        Keys { rsa, rsa_public_der, ec, jwks }
    })
}

fn now() -> i64 {
    jsonwebtoken::get_current_timestamp() as i64
}

/// Claims that pass every check, for `user`, with some replaced (or removed, with `null`).
fn claims(user: &str, changes: Value) -> Value {
    let mut claims = json!({ "sub": user, "aud": "authenticated", "iat": now(),
                             "exp": now() + 3600, "role": "authenticated" });
    for (name, value) in changes.as_object().expect("an object of changes") {
        let object = claims.as_object_mut().expect("claims are an object");
        match value {
            Value::Null => object.remove(name),
            value => object.insert(name.clone(), value.clone()),
        };
    }
    claims
}

fn sign(alg: Algorithm, kid: Option<&str>, claims: &Value, key: &EncodingKey) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).expect("sign the token")
}

fn hs256(claims: &Value) -> String {
    sign(Algorithm::HS256, None, claims, &EncodingKey::from_secret(SECRET))
}

fn rs256(claims: &Value) -> String {
    sign(Algorithm::RS256, Some("rsa-1"), claims, &keys().rsa)
}

fn b64_json(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("serialize"))
}

/// A token with this raw header and payload whose signature is the HMAC-SHA256 of both under
/// `secret`, whatever algorithm the header names.
fn hmac_signed(header: &Value, claims: &Value, secret: &[u8]) -> String {
    let message = format!("{}.{}", b64_json(header), b64_json(claims));
    let signature = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &EncodingKey::from_secret(secret),
        Algorithm::HS256,
    )
    .expect("compute the HMAC");
    format!("{message}.{signature}")
}

/// `token` with its payload replaced by `claims`, its signature kept.
fn with_payload(token: &str, claims: &Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!("{}.{}.{}", parts[0], b64_json(claims), parts[2])
}

fn bearer(token: &str) -> Option<String> {
    Some(format!("Bearer {token}"))
}

/// Each bad `Authorization` header (or none), with the code of its refusal.
fn bad_credentials(me: &str) -> Vec<(&'static str, Option<String>, &'static str)> {
    let keys = keys();
    let good = claims(me, json!({}));
    let unsigned =
        format!("{}.{}.", b64_json(&json!({ "alg": "none", "typ": "JWT" })), b64_json(&good));
    vec![
        ("no Authorization header", None, "missing_authorization"),
        ("the Basic scheme", Some("Basic dXNlcjpwYXNz".to_owned()), "not_bearer"),
        ("a bare token without a scheme", Some(hs256(&good)), "not_bearer"),
        ("an empty bearer token", Some("Bearer ".to_owned()), "empty_token"),
        ("not a JWT", bearer("not-a-jwt"), "malformed_token"),
        ("four parts", bearer(&format!("{}.x", hs256(&good))), "malformed_token"),
        ("a header that is not base64url", bearer("%%%.e30.x"), "malformed_token"),
        ("alg: none", bearer(&unsigned), "unsigned_token"),
        (
            "alg: None, unsigned",
            bearer(&format!("{}.{}.", b64_json(&json!({ "alg": "None" })), b64_json(&good))),
            "unsigned_token",
        ),
        (
            "an unsupported algorithm (HS512)",
            bearer(&sign(Algorithm::HS512, None, &good, &EncodingKey::from_secret(SECRET))),
            "unsupported_algorithm",
        ),
        (
            "ES256 under the RSA key's kid",
            bearer(&sign(Algorithm::ES256, Some("rsa-1"), &good, &keys.ec)),
            "key_algorithm_mismatch",
        ),
        (
            "HS256 signed with another secret",
            bearer(&sign(Algorithm::HS256, None, &good, &EncodingKey::from_secret(&[7; 32]))),
            "bad_signature",
        ),
        (
            "RS256 signed with the RSA key under the EC key's kid",
            bearer(&sign(Algorithm::RS256, Some("ec-1"), &good, &keys.rsa)),
            "key_algorithm_mismatch",
        ),
        (
            "an RS256 token whose payload was altered",
            bearer(&with_payload(&rs256(&good), &claims(&user(2), json!({})))),
            "bad_signature",
        ),
        (
            "RS256 whose signature is the HMAC of the RSA public key",
            bearer(&hmac_signed(
                &json!({ "alg": "RS256", "typ": "JWT", "kid": "rsa-1" }),
                &good,
                &keys.rsa_public_der,
            )),
            "bad_signature",
        ),
        (
            "HS256 keyed with the RSA public key (algorithm confusion)",
            bearer(&hmac_signed(
                &json!({ "alg": "HS256", "typ": "JWT", "kid": "rsa-1" }),
                &good,
                &keys.rsa_public_der,
            )),
            "bad_signature",
        ),
        (
            "a kid that is not in the JWKS",
            bearer(&sign(Algorithm::RS256, Some("rsa-9"), &good, &keys.rsa)),
            "unknown_kid",
        ),
        ("expired", bearer(&hs256(&claims(me, json!({ "exp": now() - 3600 })))), "token_expired"),
        (
            "expired, RS256",
            bearer(&rs256(&claims(me, json!({ "exp": now() - 3600 })))),
            "token_expired",
        ),
        (
            "not valid yet",
            bearer(&hs256(&claims(me, json!({ "nbf": now() + 3600 })))),
            "token_not_yet_valid",
        ),
        (
            "the anon audience",
            bearer(&rs256(&claims(me, json!({ "aud": "anon" })))),
            "wrong_audience",
        ),
        ("no audience", bearer(&hs256(&claims(me, json!({ "aud": null })))), "missing_claim"),
        ("no expiry", bearer(&hs256(&claims(me, json!({ "exp": null })))), "missing_claim"),
        ("no sub", bearer(&hs256(&claims(me, json!({ "sub": null })))), "missing_subject"),
        ("an empty sub", bearer(&rs256(&claims(me, json!({ "sub": "" })))), "missing_subject"),
        ("a numeric sub", bearer(&hs256(&claims(me, json!({ "sub": 42 })))), "missing_subject"),
    ]
}

fn bad_tokens_are_401_and_write_nothing<S: TestStore>() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, keys().jwks.to_string()).expect("write the JWKS file");
    let auth = AuthConfig {
        hs256_secret: Some(SECRET.to_vec()),
        jwks: Some(JwksSource::File(jwks)),
        ..AuthConfig::default()
    };
    let served = Served::start::<S>(Options { auth: Some(auth), ..Options::default() });
    let me = user(1);
    // Valid changes that any good token of `me` gets written.
    let push = |n: u32| {
        let changes = vec![profile(&me, &at(n.into())), tune(&id(n), &me, "Reel", &at(n.into()))];
        request(None, json!(changes)).to_string()
    };
    let before = served.snapshot();

    for (case, authorization, code) in bad_credentials(&me) {
        let answer = served.post(authorization.as_deref(), push(1));
        let body = &answer.body;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{case}: {body}");
        assert_eq!(body["error"]["code"], code, "{case}: {body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(!message.is_empty(), "{case}: the error has no message: {body}");
        if let Some(token) = authorization.as_deref().and_then(|a| a.strip_prefix("Bearer ")) {
            let signature = token.rsplit('.').next().unwrap_or_default();
            assert!(
                signature.len() < 8 || !message.contains(signature),
                "{case}: the message repeats the token: {message}"
            );
        }
        let challenge = answer.headers.get(WWW_AUTHENTICATE).map(|v| v.to_str().unwrap());
        let expected =
            if authorization.is_none() { "Bearer" } else { "Bearer error=\"invalid_token\"" };
        assert_eq!(challenge, Some(expected), "{case}: the challenge");
        served.assert_unchanged(&before, case);
    }

    // Credentials are checked before the body is read: a bad token with a malformed body is
    // refused for the token.
    let answer = served.post(bearer("not-a-jwt").as_deref(), "{");
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
    assert_eq!(answer.body["error"]["code"], "malformed_token", "{}", answer.body);
    served.assert_unchanged(&before, "a bad token with a malformed body");

    // The same server accepts a good token of each algorithm, with and without a kid where the
    // JWKS holds one key of the algorithm, and each writes its changes.
    let keys = keys();
    let good = claims(&me, json!({}));
    let accepted = [
        ("HS256", hs256(&good)),
        ("RS256", rs256(&good)),
        ("RS256 without kid", sign(Algorithm::RS256, None, &good, &keys.rsa)),
        ("ES256", sign(Algorithm::ES256, Some("ec-1"), &good, &keys.ec)),
    ];
    for (n, (case, token)) in (10..).zip(accepted) {
        let answer = served.post(bearer(&token).as_deref(), push(n));
        assert_eq!(answer.status, StatusCode::OK, "{case}: {}", answer.body);
        assert_eq!(answer.body["rejected"], json!([]), "{case}");
        let row = served.snapshot().row("tune", json!({ "id": id(n) }));
        assert!(row.is_some_and(|row| row["user_id"] == me), "{case}: the tune was not written");
    }
    served.stop();
}
